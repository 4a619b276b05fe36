/** One readable sentence from whatever the API, the gateway or the network answered. */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    for (const key of ["detail", "message", "msg", "error_description", "error"]) {
      const value = record[key];
      if (typeof value === "string" && value) return value;
      if (Array.isArray(value) && value.length > 0) {
        return value
          .map((item) => {
            if (item && typeof item === "object") {
              const { msg, loc } = item as { msg?: unknown; loc?: unknown };
              const where = Array.isArray(loc) ? loc.filter((p) => p !== "body").join(".") : "";
              return `${where ? `${where}: ` : ""}${typeof msg === "string" ? msg : "invalid"}`;
            }
            return String(item);
          })
          .join("; ");
      }
    }
  }
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 300);
  if (status === 413) return "That upload is too large.";
  if (status === 429) return "Too many requests; wait a moment and try again.";
  if (status === 0) return "The server could not be reached.";
  return `The request failed (HTTP ${status}).`;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
