/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies the API to a backend started with `PORT=8104 python -m app.cli run`.
const backend = process.env.FLIGHTDESK_API ?? "http://127.0.0.1:8104";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": backend,
      "/admin/": backend,
      "/healthz": backend,
      "/readyz": backend,
    },
  },
  build: {
    chunkSizeWarningLimit: 900,
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    // The machine's two cores are shared with other test runs: a test typing "new york" key by key
    // took 5.2 s at a load average of 20, over vitest's 5 s default.
    testTimeout: 20_000,
  },
});
