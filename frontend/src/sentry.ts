import type { AppConfig } from "./lib/config";

/** Sentry in the browser only when a DSN is configured; loaded lazily, so the app does not
 * carry it otherwise. Access tokens never leave in breadcrumbs or request data. */
export async function startSentry(config: AppConfig): Promise<void> {
  if (!config.sentryDsn) return;
  const Sentry = await import("@sentry/react");
  Sentry.init({
    dsn: config.sentryDsn,
    environment: config.environment,
    tracesSampleRate: 0,
    beforeSend(event) {
      if (event.request?.headers) delete event.request.headers["Authorization"];
      return event;
    },
    beforeBreadcrumb(crumb) {
      if (crumb.data && "url" in crumb.data) {
        crumb.data["url"] = String(crumb.data["url"]).replace(/access_token=[^&]+/, "access_token=…");
      }
      return crumb;
    },
  });
}
