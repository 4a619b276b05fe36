import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The runtime configuration comes from /config.js (served by `knitter dev`, written by
// scripts/write-config.mjs on Vercel), never from this file.
export default defineConfig({
  plugins: [react()],
  build: {
    sourcemap: "hidden",
    assetsDir: "assets",
    rollupOptions: {
      output: {
        // Libraries change less often than the app: separate files stay cached longer.
        manualChunks: {
          react: ["react", "react-dom", "react-router-dom"],
          supabase: ["@supabase/supabase-js"],
          query: ["@tanstack/react-query"],
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
