/** Better Auth error codes → what the form says, and which field it belongs to. */
export interface FormError {
  field: "email" | "password" | "name" | "form";
  message: string;
}

export function authErrorMessage(error: { code?: string; message?: string; status?: number } | null | undefined): FormError {
  switch (error?.code) {
    case "USER_ALREADY_EXISTS":
    case "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL":
      return { field: "email", message: "An account with this email already exists. Sign in instead." };
    case "PASSWORD_TOO_SHORT":
      return { field: "password", message: "Password is too short: use at least 8 characters." };
    case "PASSWORD_TOO_LONG":
      return { field: "password", message: "Password is too long: use at most 128 characters." };
    case "INVALID_EMAIL":
      return { field: "email", message: "Enter a valid email address." };
    case "INVALID_EMAIL_OR_PASSWORD":
      return { field: "form", message: "Wrong email or password." };
  }
  if (error?.status === 429) return { field: "form", message: "Too many attempts. Wait a minute and try again." };
  if (error?.status === 403) {
    return { field: "form", message: "This address is not a trusted origin of the app (see BETTER_AUTH_TRUSTED_ORIGINS)." };
  }
  return { field: "form", message: error?.message || "Something went wrong. Try again." };
}

/** Checks done before the request, so obvious mistakes get an answer without a round trip. */
export function validateCredentials(input: { email: string; password: string; name?: string }, mode: "sign-in" | "sign-up"): FormError | null {
  if (mode === "sign-up" && input.name !== undefined && !input.name.trim()) return { field: "name", message: "Enter your name." };
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email.trim())) return { field: "email", message: "Enter a valid email address." };
  if (!input.password) return { field: "password", message: "Enter your password." };
  if (mode === "sign-up" && input.password.length < 8) {
    return { field: "password", message: "Password is too short: use at least 8 characters." };
  }
  return null;
}
