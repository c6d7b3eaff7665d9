// tests/browser/user_password_forward.mjs: a user signs in to the mail panel, changes their password (a rule error first), adds a forward, and sees both completion messages — JavaScript off.
// node user_password_forward.mjs <panel url> <address> <password> <new password> <forward destination> [screenshot.png]
import { run, check, mainText, signIn, signOut } from './lib.mjs';

const [base, address, password, newPassword, destination, shot] = process.argv.slice(2);

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

await run(async (open) => {
  const { page } = await open({ locale: 'ja-JP', javaScriptEnabled: false });
  await signIn(page, base, 'mail', address, password);
  check(page.url().endsWith('/mail/account'), `lands on the account page: ${page.url()}`);
  const text = await mainText(page);
  check(text.includes(address) && text.includes('正常'), 'own address and status 正常 shown');
  check(text.includes('POP3'), 'the spam sort note about POP3 is on the page');
  if (shot) await page.screenshot({ path: shot, fullPage: true });

  // Password: from the account page's link; a mismatch is refused next to its field.
  await submit(page, 'main a[href="/mail/password"] >> nth=0');
  await page.fill('input[name=current_password]', password);
  await page.fill('input[name=new_password]', newPassword);
  await page.fill('input[name=new_password_confirm]', newPassword + 'x');
  await submit(page, 'main form button[type=submit]');
  check(await page.isVisible('input[name=new_password_confirm] ~ .field-error'), 'mismatch shown next to the field');
  await page.fill('input[name=current_password]', password);
  await page.fill('input[name=new_password]', newPassword);
  await page.fill('input[name=new_password_confirm]', newPassword);
  await submit(page, 'main form button[type=submit]');
  check(page.url().endsWith('/mail/account?done=password_changed'), `back on the account page: ${page.url()}`);
  check((await page.textContent('main .done')).includes('パスワードを変更しました'), 'completion message');

  // A forward, from the account page's link.
  await submit(page, 'main a[href="/mail/forwards"]');
  await page.check('input[name=condition][value=all]');
  await page.fill('textarea[name=addresses]', destination);
  await submit(page, 'main form#forward-add button[type=submit]');
  check(page.url().includes('done=forwards_added'), `completion redirect: ${page.url()}`);
  check(await page.isVisible('main .done'), 'completion message after adding the forward');
  check((await mainText(page)).includes(destination), 'the destination is listed');

  // The new password is the one that signs in now.
  await signOut(page);
  await page.goto(`${base}/mail/login`);
  await page.fill('input[name=username]', address);
  await page.fill('input[name=password]', password);
  await submit(page, 'form button[type=submit]');
  check(page.url().includes('/mail/login'), 'the old password no longer signs in');
  await signIn(page, base, 'mail', address, newPassword);
  check((await mainText(page)).includes(address), 'signed in with the new password');
});
