// tests/browser/fwd_autoreply.mjs: a user signs in to the mail panel, adds a subject forward with a Japanese keyword, deletes it through the confirmation page, adds an `all` forward, and sets an autoresponder after a refused character is named — JavaScript off.
// node fwd_autoreply.mjs <panel url> <address> <password>
import { run, check, mainText, signIn } from './lib.mjs';

const [base, address, password] = process.argv.slice(2);

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

await run(async (open) => {
  const { page } = await open({ locale: 'ja-JP', javaScriptEnabled: false });
  await signIn(page, base, 'mail', address, password);

  // A subject rule with two addresses, listed sorted.
  await page.goto(`${base}/mail/forwards`);
  check((await mainText(page)).includes('転送設定'), 'the forwards page in Japanese');
  await page.check('input[name=condition][value=subject]');
  await page.fill('input[name=keyword]', '【至急】 ご確認');
  await page.fill('textarea[name=addresses]', 'zeta@elsewhere.example\nalpha@elsewhere.example');
  await submit(page, 'main form#forward-add button[type=submit]');
  check(page.url().endsWith('/mail/forwards?done=forwards_added'), `completion redirect: ${page.url()}`);
  check((await page.textContent('main .done')).includes('転送設定を追加しました'), 'completion message');
  const cell = await page.textContent('table.forwards td.addresses');
  check(cell.indexOf('alpha@') >= 0 && cell.indexOf('alpha@') < cell.indexOf('zeta@'), `addresses sorted: ${cell}`);
  check((await page.textContent('table.forwards td.keyword')).includes('【至急】 ご確認'), 'keyword shown');

  // Deleting asks first; cancelling keeps it, confirming removes it with both addresses.
  await submit(page, 'table.forwards a.button');
  check(page.url().endsWith('/delete'), `confirmation page: ${page.url()}`);
  check((await mainText(page)).includes('zeta@elsewhere.example'), 'the rule is shown before deleting');
  await submit(page, 'main form button.danger');
  check(page.url().endsWith('done=forwards_deleted'), `deleted: ${page.url()}`);
  check(!(await mainText(page)).includes('zeta@elsewhere.example'), 'the rule is gone');

  // A leading hyphen is refused next to the field, then an `all` forward is added.
  await page.check('input[name=condition][value=all]');
  await page.fill('textarea[name=addresses]', '-bad@elsewhere.example');
  await submit(page, 'main form#forward-add button[type=submit]');
  check(await page.isVisible('textarea[name=addresses] ~ .field-error'), 'leading hyphen refused next to the field');
  await page.fill('textarea[name=addresses]', 'copy@elsewhere.example');
  await submit(page, 'main form#forward-add button[type=submit]');
  check((await mainText(page)).includes('copy@elsewhere.example'), 'the all forward is listed');

  // Autoresponder: ～ is named in the error; without it the reply is saved and active.
  await page.goto(`${base}/mail/autoreply`);
  check((await mainText(page)).includes('全角300文字'), 'the width rule is explained');
  await page.fill('textarea[name=text]', '只今不在にしております～');
  await submit(page, 'main form#autoreply-form button[type=submit]');
  check((await mainText(page)).includes('「～」'), 'the refused character is named');
  await page.fill('textarea[name=text]', '只今不在にしております。03-1234-5678');
  await page.fill('input[name=end_at]', '2099-12-31');
  await submit(page, 'main form#autoreply-form button[type=submit]');
  check(page.url().endsWith('/mail/autoreply?done=autoreply_saved'), `saved: ${page.url()}`);
  check((await page.textContent('main .done')).includes('自動返信を設定しました'), 'completion message');
  check(await page.isVisible('#autoreply-active'), 'shown as active');
  check((await page.inputValue('input[name=end_at]')) === '2099-12-31', 'the end date is kept');
});
