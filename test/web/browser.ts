/**
 * One headless Debian chromium for the browser tests, driven by
 * playwright-core (it uses /usr/bin/chromium and downloads no browser).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";

export const CHROMIUM = process.env.RPROC_CHROMIUM ?? "/usr/bin/chromium";

export function chromiumPresent(): boolean {
  return existsSync(CHROMIUM);
}

export interface Session {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launch(): Promise<Session> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "rproc-chromium-"));
  // A fresh profile each run (playwright takes it as the persistent context's folder, i.e. --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1700, height: 1100 },
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A page that records console errors and page errors. */
export async function newPage(s: Session): Promise<{ page: Page; errors: string[] }> {
  const page = await s.context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, errors };
}
