// Where chromium is missing, the browser tests fail and say what to install: they never skip.
import { describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.ts';

describe('the console tests’ browser', () => {
  it('refuses to run without chromium and says how to install it', async () => {
    await expect(launchBrowser('/nonexistent/chromium')).rejects.toThrow(/no chromium at \/nonexistent\/chromium.*apt-get install chromium/);
  });
});
