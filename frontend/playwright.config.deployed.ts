import { defineConfig } from "@playwright/test";

import base from "./playwright.config";

/**
 * The user's path on a release that is already running: the same browser and helpers as the
 * e2e suite, no stack of its own, at APP_URL, the URL `cargo xtask up` printed. The cluster
 * tier (test/cluster/run) and the GitHub workflow's Minikube job run it:
 *   APP_URL=http://192.168.49.2:30300 npm run test:deployed
 */
const appUrl = process.env.APP_URL;
if (!appUrl) throw new Error("APP_URL is not set: give the URL `cargo xtask up` printed");

export default defineConfig({
  ...base,
  globalSetup: undefined,
  testMatch: "*.deployed.ts",
  outputDir: "./test-results/deployed",
  use: { ...base.use, baseURL: appUrl },
});
