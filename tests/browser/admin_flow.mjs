// tests/browser/admin_flow.mjs: a domain admin's day in headless Chromium, with JavaScript off (the pages must not need it):
// sign in, create an account (a policy error first, in Japanese), toggle spam options through their confirmation,
// mark an account compromised, screenshot the Japanese list with its red 不正利用検知, bulk-delete two accounts, sign out.
// node admin_flow.mjs <panel url> <login> <password> <domain> <screenshot.png>
import { run, check, mainText, signIn, signOut } from './lib.mjs';

const [base, login, password, domain, shot] = process.argv.slice(2);
const GOOD_PW = 'Br0wser#Flow-pw';
const list = `${base}/admin/domains/${domain}/accounts`;

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

async function createAccount(page, name) {
  await page.goto(`${base}/admin/domains/${domain}/new-account`);
  await page.fill('#name', name);
  await page.fill('#password', GOOD_PW);
  await submit(page, '#create-submit');
  check(page.url().endsWith(`/accounts/${name}?done=created`), `created ${name}: ${page.url()}`);
  check((await mainText(page)).includes('作成が完了しました'), 'completion message after create');
}

async function toggle(page, name, field) {
  await page.goto(`${list}/${name}`);
  check((await page.textContent(`#row-${field} .state`)).trim() === 'OFF', `${field} starts OFF`);
  await submit(page, `#toggle-${field}`);
  check(page.url().includes(`/toggle?field=${field}&value=1`), `confirmation page for ${field}`);
  const text = await mainText(page);
  check(text.includes('以下の内容で実行します'), 'the confirmation asks first');
  if (field === 'spam_sort') check(await page.isVisible('#pop3-note'), 'spam sort warns about POP3');
  await submit(page, '#confirm-submit');
  check(page.url().endsWith(`/accounts/${name}?done=saved`), `back on the account page: ${page.url()}`);
  check((await mainText(page)).includes('設定が完了しました'), 'completion message after the toggle');
  check((await page.textContent(`#row-${field} .state`)).trim() === 'ON', `${field} is ON now`);
}

await run(async (open) => {
  const { page } = await open({ locale: 'ja-JP', javaScriptEnabled: false });
  await signIn(page, base, 'admin', login, password);
  check(page.url().startsWith(list), `a domain admin lands on the account list: ${page.url()}`);
  check((await mainText(page)).includes('メールアカウント一覧'), 'Japanese list title');

  // A policy error, in Japanese, next to the password field; the name stays filled in.
  await page.goto(`${base}/admin/domains/${domain}/new-account`);
  await page.fill('#name', 'browser1');
  await page.fill('#password', 'abc');
  await submit(page, '#create-submit');
  const errors = await page.locator('.password-error').allTextContents();
  check(errors.some((e) => e.includes('パスワードは12文字以上')), `Japanese too_short error: ${errors}`);
  check(errors.some((e) => e.includes('英大文字')), `Japanese needs_upper error: ${errors}`);
  check((await page.inputValue('#name')) === 'browser1', 'the name is kept');
  check((await page.inputValue('#password')) === '', 'the password is not echoed');

  await createAccount(page, 'browser1');
  await toggle(page, 'browser1', 'spam_tag');
  await toggle(page, 'browser1', 'spam_sort');
  await createAccount(page, 'browser2');
  await createAccount(page, 'browser3');

  // Mark one compromised from its page (a support action admins have too).
  await page.goto(`${list}/browser3`);
  await submit(page, '#act-compromised');
  check((await mainText(page)).includes('不正利用として停止しました'), 'compromised completion message');

  // The list, in Japanese, with the abnormal status in red.
  await page.goto(list);
  const bad = page.locator('tr[data-name="browser3"] .status-bad');
  check((await bad.textContent()).trim() === '不正利用検知', 'browser3 shows 不正利用検知');
  const color = await bad.evaluate((el) => getComputedStyle(el).color);
  check(color === 'rgb(198, 40, 40)', `不正利用検知 is red: ${color}`);
  const ok = page.locator('tr[data-name="browser1"] .status-ok');
  check((await ok.textContent()).trim() === '正常', 'browser1 shows 正常');
  await page.screenshot({ path: shot, fullPage: true });

  // Bulk delete two accounts: one confirmation, then they are gone.
  await page.check('#sel-browser1');
  await page.check('#sel-browser2');
  await submit(page, '#delete-selected');
  check(page.url().includes('/delete-accounts?'), `bulk confirmation page: ${page.url()}`);
  check((await page.textContent('#confirm-count')).trim() === '2', 'two accounts to delete');
  const names = await page.locator('#confirm-names li').allTextContents();
  check(names.join(' ').includes(`browser1@${domain}`) && names.join(' ').includes(`browser2@${domain}`),
    `both listed: ${names}`);
  await submit(page, '#confirm-submit');
  check(page.url().endsWith('?done=accounts_bulk_deleted'), `back on the list: ${page.url()}`);
  check((await mainText(page)).includes('選択したアカウントを削除しました'), 'bulk completion message');
  check(await page.locator('tr[data-name="browser1"]').count() === 0, 'browser1 gone');
  check(await page.locator('tr[data-name="browser2"]').count() === 0, 'browser2 gone');
  check(await page.locator('tr[data-name="browser3"]').count() === 1, 'browser3 stays');

  await signOut(page);
  await page.goto(list);
  check(page.url().endsWith('/admin/login'), `signed out: ${page.url()}`);
});
