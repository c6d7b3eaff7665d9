// tests/browser/support_unlock.mjs: a locked user cannot sign in; support finds the account in the console, sees the lock, unlocks it; the user signs in again — JavaScript off.
// node support_unlock.mjs <panel url> <support login> <support password> <address> <user password> [screenshot.png]
import { run, check, mainText, signIn, signOut } from './lib.mjs';

const [base, login, password, address, userPassword, shot] = process.argv.slice(2);
const [name, domain] = address.split('@');

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

async function tryUser(page) {
  await page.goto(`${base}/mail/login`);
  await page.fill('input[name=username]', address);
  await page.fill('input[name=password]', userPassword);
  await submit(page, 'form button[type=submit]');
}

await run(async (open) => {
  const { page } = await open({ locale: 'ja-JP', javaScriptEnabled: false });
  await tryUser(page);
  check(page.url().endsWith('/mail/login'), `the locked user stays on the login page: ${page.url()}`);
  check((await mainText(page)).includes('ロック'), 'the page says the account is locked');

  await signIn(page, base, 'admin', login, password);
  check(page.url().endsWith('/admin/support'), `support lands on the console: ${page.url()}`);
  await page.fill('input[name=q]', name);
  await submit(page, 'main form.search button[type=submit]');
  const row = `tr[data-address="${address}"]`;
  check(await page.isVisible(row), 'the account is found');
  check((await page.textContent(`${row} .status`)).includes('アカウントロック'), 'its status is アカウントロック');
  check(await page.isVisible(`${row} .status .status-bad`), 'shown in red');
  await submit(page, `${row} a >> nth=0`);
  check(page.url().endsWith(`/admin/support/${domain}/${name}`), `on the account: ${page.url()}`);
  check(await page.isVisible('#locked-until'), 'the lock time is shown');
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  await submit(page, '#action-unlock');
  check(page.url().includes('done=accounts_unlocked'), `completion redirect: ${page.url()}`);
  check(await page.isVisible('main .done'), 'completion message');
  check((await page.textContent('#account-status')).includes('正常'), 'status back to 正常');
  await signOut(page);

  await signIn(page, base, 'mail', address, userPassword);
  check((await mainText(page)).includes(address), 'the user is signed in again');
});
