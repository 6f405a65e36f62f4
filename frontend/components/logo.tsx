/** The app's name with a check-mark icon (an SVG: no emoji font needed). */
export function Logo() {
  return (
    <span className="inline-flex items-center gap-2 text-lg font-semibold tracking-tight">
      <svg viewBox="0 0 24 24" className="size-6 text-brand-600" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth={2.5} strokeLinecap="round" strokeLinejoin="round">
        <rect x="2.5" y="2.5" width="19" height="19" rx="5" />
        <path d="m7.5 12.5 3 3 6-7" />
      </svg>
      Todo Chatbot
    </span>
  );
}
