// tests/browser/smoke.mjs: the browser harness itself works: the login page renders in Japanese, a wrong password is refused.
// node smoke.mjs <panel url> <login> <password>
import { run, check, mainText, signIn } from './lib.mjs';

const [base, login, password] = process.argv.slice(2);

await run(async (open) => {
  const { page } = await open({ locale: 'ja-JP' });
  await page.goto(`${base}/admin/login`);
  check((await mainText(page)).includes('管理者ログイン'), 'Japanese admin login title');
  await page.fill('input[name=username]', login);
  await page.fill('input[name=password]', password + 'x');
  await Promise.all([page.waitForLoadState('load'), page.click('form button[type=submit]')]);
  check(await page.isVisible('main .error[role=alert]'), 'the wrong password is refused with an error');
  check(/[ぁ-んァ-ン]/.test(await page.textContent('main .error')), 'the error is in Japanese');
  await signIn(page, base, 'admin', login, password);
});
