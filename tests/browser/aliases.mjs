// tests/browser/aliases.mjs: an admin adds an alias to an account, sees it, and deletes it after the confirmation page — with JavaScript off.
// node aliases.mjs <panel url> <login> <password> <domain> <account>
import { run, check, mainText, signIn } from './lib.mjs';

const [base, login, password, domain, account] = process.argv.slice(2);
const aliasesUrl = `${base}/admin/domains/${domain}/accounts/${account}/aliases`;
const address = `browser-alias@${domain}`;

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

await run(async (open) => {
  const { page } = await open({ locale: 'en-US', javaScriptEnabled: false });
  await signIn(page, base, 'admin', login, password);

  // The account's page leads to its aliases.
  await page.goto(`${base}/admin/domains/${domain}/accounts/${account}`);
  const link = page.locator(`a[href$="/accounts/${account}/aliases"]`).first();
  if (await link.count() > 0) {
    await submit(page, `a[href$="/accounts/${account}/aliases"] >> nth=0`);
  } else {
    await page.goto(aliasesUrl);
  }
  check(page.url().startsWith(aliasesUrl), `on the aliases page: ${page.url()}`);
  check((await mainText(page)).includes(`${account}@${domain}`), 'the page names the account');

  // A broken rule is shown next to the field, the value kept.
  await page.fill('input[name=name]', 'bad..alias');
  await submit(page, 'main form button[type=submit]');
  check(await page.isVisible('input[name=name] ~ .field-error, #name-error'), 'error next to the name field');
  check((await page.inputValue('input[name=name]')) === 'bad..alias', 'the entered value is kept');

  await page.fill('input[name=name]', 'Browser-Alias');
  await submit(page, 'main form button[type=submit]');
  check(page.url().includes('done=aliases_added'), `completion redirect: ${page.url()}`);
  check(await page.isVisible('main .done'), 'a completion message is shown');
  check(await page.isVisible('tr[data-alias="browser-alias"]'), 'the new alias is listed');
  check((await mainText(page)).includes(address), 'its address is shown');

  // Delete: first a confirmation page, which changes nothing by itself.
  await page.goto(aliasesUrl);
  await submit(page, 'tr[data-alias="browser-alias"] a');
  check((await mainText(page)).includes(address), 'the confirmation names the alias');
  await page.goto(aliasesUrl);
  check(await page.isVisible('tr[data-alias="browser-alias"]'), 'still there before confirming');
  await submit(page, 'tr[data-alias="browser-alias"] a');
  await submit(page, 'main form button.danger');
  check(page.url().includes('done=aliases_deleted'), `deleted redirect: ${page.url()}`);
  check(await page.isVisible('main .done'), 'a completion message after the delete');
  check(!(await page.isVisible('tr[data-alias="browser-alias"]')), 'the alias is gone from the list');
});
