"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useState, type FormEvent } from "react";

import { authClient } from "@/lib/auth-client";
import { authErrorMessage, validateCredentials, type FormError } from "@/lib/auth-errors";
import { safeNext } from "@/lib/safe-redirect";

const inputClass =
  "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm " +
  "aria-[invalid=true]:border-red-500 dark:border-slate-700 dark:bg-slate-900";

/**
 * Rendered on the server in full (the page passes `next` from its query), so the form is in the
 * first HTML; it submits only through `onSubmit`, once this script has run.
 */
export function AuthForm({ mode, next: nextParam }: { mode: "sign-in" | "sign-up"; next: string | null }) {
  const router = useRouter();
  const next = safeNext(nextParam);
  const id = useId();
  const [error, setError] = useState<FormError | null>(null);
  const [pending, setPending] = useState(false);
  // Until this script runs, submitting would be the browser's own: no submit before then.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const signUp = mode === "sign-up";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const email = String(data.get("email") ?? "").trim();
    const password = String(data.get("password") ?? "");
    const name = signUp ? String(data.get("name") ?? "") : undefined;
    const invalid = validateCredentials({ email, password, name }, mode);
    if (invalid) return setError(invalid);

    setPending(true);
    setError(null);
    const result = signUp
      ? await authClient.signUp.email({ email, password, name: name!.trim() })
      : await authClient.signIn.email({ email, password });
    if (result.error) {
      setPending(false);
      return setError(authErrorMessage(result.error));
    }
    router.replace(safeNext(nextParam, window.location.origin));
    router.refresh();
  }

  const fieldError = (field: FormError["field"]) =>
    error?.field === field ? (
      <p id={`${id}-${field}-error`} className="mt-1 text-sm text-red-600 dark:text-red-400" data-testid={`auth-error-${field}`}>
        {error.message}
      </p>
    ) : null;
  const described = (field: FormError["field"]) =>
    error?.field === field ? { "aria-invalid": true, "aria-describedby": `${id}-${field}-error` } : {};

  return (
    // method="post" too, so that even a submit this handler never sees puts nothing in the URL.
    <form
      method="post"
      onSubmit={onSubmit}
      noValidate
      className="space-y-4 rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900"
      data-testid={`${mode}-form`}
    >
      <h1 className="text-lg font-semibold">{signUp ? "Create your account" : "Sign in"}</h1>
      <noscript>
        <p role="alert" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="auth-needs-js">
          This app needs JavaScript to sign you in. Turn it on and reload the page.
        </p>
      </noscript>
      {error?.field === "form" ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300" data-testid="auth-error">
          {error.message}
        </p>
      ) : null}
      {signUp ? (
        <div>
          <label htmlFor={`${id}-name`} className="block text-sm font-medium">Name</label>
          <input id={`${id}-name`} name="name" autoComplete="name" required className={inputClass} data-testid="auth-name" {...described("name")} />
          {fieldError("name")}
        </div>
      ) : null}
      <div>
        <label htmlFor={`${id}-email`} className="block text-sm font-medium">Email</label>
        <input id={`${id}-email`} name="email" type="email" autoComplete="email" required className={inputClass} data-testid="auth-email" {...described("email")} />
        {fieldError("email")}
      </div>
      <div>
        <label htmlFor={`${id}-password`} className="block text-sm font-medium">Password</label>
        <input
          id={`${id}-password`}
          name="password"
          type="password"
          autoComplete={signUp ? "new-password" : "current-password"}
          required
          minLength={signUp ? 8 : undefined}
          className={inputClass}
          data-testid="auth-password"
          {...described("password")}
        />
        {signUp && error?.field !== "password" ? <p className="mt-1 text-xs text-slate-500">At least 8 characters.</p> : null}
        {fieldError("password")}
      </div>
      <button
        type="submit"
        disabled={pending || !hydrated}
        className="w-full rounded-md bg-brand-600 px-3 py-2 text-sm font-semibold text-white hover:bg-brand-700 disabled:opacity-60"
        data-testid="auth-submit"
      >
        {pending ? (signUp ? "Creating account…" : "Signing in…") : signUp ? "Create account" : "Sign in"}
      </button>
      <p className="text-center text-sm text-slate-600 dark:text-slate-400">
        {signUp ? "Already have an account? " : "New here? "}
        <Link
          href={{ pathname: signUp ? "/sign-in" : "/sign-up", query: next !== "/" ? { next } : {} }}
          className="font-medium text-brand-600 hover:underline"
        >
          {signUp ? "Sign in" : "Create an account"}
        </Link>
      </p>
    </form>
  );
}
