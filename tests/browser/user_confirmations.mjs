// tests/browser/user_confirmations.mjs: the user panel's confirmations in headless Chromium with JavaScript off
// (issue 11 points 1 and 6): spam sort with its POP3 note, delete mail data, and the mail data copy form, each
// through its server-rendered confirmation page and then its completion message, in Japanese.
// node user_confirmations.mjs <panel url> <address> <password> [screenshot.png]
import { run, check, mainText, signIn } from './lib.mjs';

const [base, address, password, shot] = process.argv.slice(2);

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

await run(async (open) => {
  const { page } = await open({ locale: 'ja-JP', javaScriptEnabled: false });
  await signIn(page, base, 'mail', address, password);
  check(page.url().endsWith('/mail/account'), `lands on the account page: ${page.url()}`);

  // Spam sort: the confirmation warns that POP3 will not see the spam; cancelling changes nothing.
  check((await page.textContent('#row-spam_sort .off')).trim() === 'OFF', 'spam sort starts OFF');
  await submit(page, '#change-spam_sort');
  check(page.url().includes('/mail/account/confirm/spam_sort?value=1'), `confirmation page: ${page.url()}`);
  check((await page.textContent('#pop3-note')).includes('POP3'), 'the POP3 note on the confirmation');
  await submit(page, 'main a.button.secondary');
  check(page.url().endsWith('/mail/account'), `cancel goes back: ${page.url()}`);
  check(await page.locator('#row-spam_sort .off').count() === 1, 'still OFF after cancelling');
  await submit(page, '#change-spam_sort');
  await submit(page, '#confirm-submit');
  check(page.url().endsWith('/mail/account?done=saved'), `saved: ${page.url()}`);
  check((await mainText(page)).includes('設定が完了しました。'), 'completion message after the toggle');
  check(await page.locator('#row-spam_sort .on').count() === 1, 'spam sort is ON now');

  // Delete mail data: asked first, then started.
  await submit(page, 'main a[href="/mail/purge-mail"]');
  check(page.url().endsWith('/mail/purge-mail'), `purge confirmation: ${page.url()}`);
  await submit(page, '#confirm-submit');
  check(page.url().includes('done=purge_started'), `purge started: ${page.url()}`);
  check((await mainText(page)).includes('メールデータの削除を開始しました。'), 'purge completion message');

  // Mail data copy: the form, a confirmation with the two passwords, then the completion message.
  await submit(page, 'main a[href="/mail/mail-copy"]');
  await page.fill('#source_host', 'imap.old-provider.example');
  await page.fill('#notify_address', 'me@elsewhere.example');
  await submit(page, '#mail-copy-form button[type=submit]');
  check(await page.isVisible('#mail-copy-confirm'), 'the copy confirmation page');
  check((await page.textContent('#confirm-host')).trim() === 'imap.old-provider.example', 'host shown');
  check((await page.textContent('#confirm-login')).trim() === address, 'the login defaults to the own address');
  await page.fill('#source_password', 'src-secret-1');
  await page.fill('#password', password);
  await submit(page, '#confirm-submit');
  check(page.url().includes('done=mail_copy_started'), `copy started: ${page.url()}`);
  const text = await mainText(page);
  check(text.includes('メールデータコピーを受け付けました'), 'copy completion message');
  check(!text.includes('src-secret-1'), 'the source password is not shown');
  if (shot) await page.screenshot({ path: shot, fullPage: true });
});
