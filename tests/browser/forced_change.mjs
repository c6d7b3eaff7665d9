// tests/browser/forced_change.mjs: a user signs in with a temporary password, can reach only the password page, enters the same password (refused), then a new one twice, and lands on the account page — JavaScript off.
// node forced_change.mjs <panel url> <address> <temporary password> <new password>
import { run, check, mainText, signIn } from './lib.mjs';

const [base, address, temp, newPassword] = process.argv.slice(2);

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

await run(async (open) => {
  const { page } = await open({ locale: 'en-US', javaScriptEnabled: false });
  await signIn(page, base, 'mail', address, temp);
  check(page.url().endsWith('/mail/password'), `only the password page: ${page.url()}`);
  check(await page.isVisible('main .warn'), 'the page says the password must be changed');
  for (const path of ['/mail/account', '/mail/forwards', '/mail/settings', '/mail/mail-copy']) {
    await page.goto(base + path);
    check(page.url().endsWith('/mail/password'), `${path} leads back to the password page: ${page.url()}`);
  }
  await page.fill('input[name=current_password]', temp);
  await page.fill('input[name=new_password]', temp);
  await page.fill('input[name=new_password_confirm]', temp);
  await submit(page, 'main form button[type=submit]');
  check(await page.isVisible('li[data-code=same_as_current]'), 'the same password is refused');
  await page.fill('input[name=current_password]', temp);
  await page.fill('input[name=new_password]', newPassword);
  await page.fill('input[name=new_password_confirm]', newPassword);
  await submit(page, 'main form button[type=submit]');
  check(page.url().endsWith('/mail/account?done=password_changed'), `account page after the change: ${page.url()}`);
  const text = await mainText(page);
  check(text.includes('Your password has been changed.'), 'completion message');
  check(text.includes('Normal') && !text.includes('Password reset'), 'status is Normal, no longer 強制変更済');
});
