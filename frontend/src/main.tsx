import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { App } from "./App";
import { AuthProvider } from "./auth";
import { appConfig, ConfigError } from "./lib/config";
import { applyTheme, storedTheme } from "./lib/theme";
import { startSentry } from "./sentry";
import "./styles.css";

applyTheme(storedTheme());
// "System" follows the operating system's setting as it changes.
window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme(storedTheme()));
const root = createRoot(document.getElementById("root") as HTMLElement);

try {
  const config = appConfig();
  void startSentry(config);
  const queryClient = new QueryClient({
    defaultOptions: { queries: { staleTime: 30_000, retry: 1, refetchOnWindowFocus: false } },
  });
  root.render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <AuthProvider>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </AuthProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
} catch (error) {
  const message = error instanceof ConfigError ? error.message : String(error);
  root.render(
    <main className="centered">
      <h1>knitter is not configured</h1>
      <p role="alert">{message}</p>
    </main>,
  );
}
