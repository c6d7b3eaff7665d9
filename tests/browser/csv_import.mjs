// tests/browser/csv_import.mjs: a domain admin imports accounts from CSV in Chromium: a file with several errors (every error listed), the corrected Shift_JIS file (confirmation, progress bar, report, the new accounts in the list), then a bulk edit on the Japanese page with JavaScript off.
// node csv_import.mjs <panel url> <login> <password> <domain> <bad.csv> <good.csv> <edit.csv> <rows> <screenshot dir>
import { join } from 'node:path';
import { run, check, mainText, signIn } from './lib.mjs';

const [base, login, password, domain, badFile, goodFile, editFile, rowsArg, shotDir] = process.argv.slice(2);
const rows = Number(rowsArg);
const csvUrl = `${base}/admin/domains/${domain}/csv`;

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

// Upload on the CSV page, check the confirmation page, confirm; answers the job page's id.
async function upload(page, file, mode, expectRows, charset) {
  await page.goto(csvUrl);
  await page.setInputFiles('#csv-file', file);
  await page.check(`#mode-${mode}`);
  await submit(page, '#csv-upload-submit');
  check(page.url().endsWith(`/admin/domains/${domain}/csv/confirm`), `on the confirmation page: ${page.url()}`);
  check(await page.isVisible('#csv-confirm'), 'the confirmation is shown');
  check((await page.textContent('#confirm-rows')).trim() === String(expectRows),
    `the confirmation counts ${expectRows} rows: ${await page.textContent('#confirm-rows')}`);
  if (charset) check((await page.textContent('#confirm-charset')).includes(charset), `encoding ${charset} detected`);
  // Nothing has happened yet: no job for this upload.
  await submit(page, '#confirm-submit');
  const m = page.url().match(/\/admin\/jobs\/(\d+)$/);
  check(m, `on the job page after confirming: ${page.url()}`);
  check(await page.isVisible('#job-progress'), 'the job page shows a progress bar');
  return m[1];
}

// Wait for the job page to show a final state (the page reloads itself), noting what the
// progress bar showed on the way. Answers the states seen.
async function follow(page, timeout) {
  const seen = [];
  const end = Date.now() + timeout;
  for (;;) {
    const s = await page.evaluate(() => {
      const bar = document.getElementById('job-progress');
      const job = document.getElementById('job');
      return job && bar ? { state: job.dataset.state, value: bar.getAttribute('value'), max: bar.getAttribute('max') } : null;
    }).catch(() => null);   // the page is reloading
    if (s) {
      seen.push(s);
      if (s.state === 'done' || s.state === 'failed') return seen;
    }
    check(Date.now() < end, `the job ended within ${timeout} ms: ${JSON.stringify(seen.slice(-3))}`);
    await page.waitForTimeout(100);
  }
}

await run(async (open) => {
  const { page, close } = await open({ locale: 'en-US' });
  // The job page's script runs under the strict CSP: no refusals, no errors.
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  // Resources that fail are named by their response (the browser's own favicon probe aside).
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) consoleErrors.push(`${r.status()} ${r.url()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await signIn(page, base, 'admin', login, password);

  // The domain's navigation leads to the CSV page.
  await page.goto(`${base}/admin/domains/${domain}/accounts`);
  await submit(page, `nav.domain-nav a[href="/admin/domains/${domain}/csv"]`);
  check(page.url() === csvUrl, `on the CSV page: ${page.url()}`);

  // Samples and export download with the session of the page.
  const sample = await page.request.get(new URL(await page.getAttribute('#sample-create', 'href'), base).href);
  check(sample.status() === 200, `create sample: ${sample.status()}`);
  check((await sample.text()).replace(/^\uFEFF/, '').startsWith('mail_account,password,mail_capacity,comment'), 'create sample header');
  const sample2 = await page.request.get(new URL(await page.getAttribute('#sample-edit', 'href'), base).href);
  check(sample2.status() === 200 && (await sample2.text()).replace(/^\uFEFF/, '').startsWith('mail_account,password,mail_capacity'),
    'edit sample header');
  for (const id of ['#export-utf8', '#export-sjis']) {
    const r = await page.request.get(new URL(await page.getAttribute(id, 'href'), base).href);
    check(r.status() === 200, `${id}: ${r.status()}`);
    const body = await r.body();
    check(body.toString('latin1').includes('mail_account,mail_password,comment,amount_of_mail_box,spam,forward,auto,pop,mail_capacity'),
      `${id} has the export header`);
    check(body.toString('latin1').includes('postmaster'), `${id} lists postmaster`);
  }

  // 1. A file with several errors: the job fails and the page lists every error.
  const badId = await upload(page, badFile, 'create', 6, 'UTF-8');
  await follow(page, 120000);
  check((await page.getAttribute('#job', 'data-state')) === 'failed', 'the bad file is rejected');
  const api = await (await page.request.get(`${base}/api/v1/jobs/${badId}`)).json();
  check(api.state === 'failed' && api.errors.length >= 5, `the API lists the errors: ${JSON.stringify(api)}`);
  const shown = await page.$$eval('#error-table tr.csv-error', (trs) => trs.map((tr) => ({
    line: Number(tr.dataset.line), column: tr.dataset.column, code: tr.dataset.code,
    message: tr.cells[3].textContent })));
  check(shown.length === api.errors.length, `every error is listed: ${shown.length} of ${api.errors.length}`);
  api.errors.forEach((e, i) => {
    check(shown[i].line === e.line && shown[i].column === (e.column || '') && shown[i].code === e.code &&
      shown[i].message === e.message, `error ${i} shown as the API has it: ${JSON.stringify(shown[i])} vs ${JSON.stringify(e)}`);
  });
  check((await page.textContent('#error-count')).trim() === String(api.errors.length), 'the error count is shown');
  // The broken rows are the ones named, each at its line and column.
  for (const [line, column] of [[3, 'mail_account'], [4, 'password'], [5, 'mail_account'], [6, 'mail_account'], [7, 'mail_capacity']]) {
    check(shown.some((e) => e.line === line && e.column === column), `an error on line ${line}, ${column}: ${JSON.stringify(shown)}`);
  }
  await page.screenshot({ path: join(shotDir, 'csv-import-errors.png'), fullPage: true });

  // 2. The corrected file (Shift_JIS, as Excel saves it): progress bar, then the report.
  await upload(page, goodFile, 'create', rows, 'Shift_JIS');
  const seen = await follow(page, 240000);
  check(seen.length > 1 && (seen[0].state === 'queued' || seen[0].state === 'running'),
    `the progress bar was shown while the job ran: ${JSON.stringify(seen.slice(0, 3))}`);
  check((await page.getAttribute('#job', 'data-state')) === 'done', 'the corrected file is imported');
  check((await page.getAttribute('#job-progress', 'value')) === String(rows) &&
    (await page.getAttribute('#job-progress', 'max')) === String(rows), 'the progress bar is full');
  check((await page.textContent('#report-count')).trim() === String(rows), `the report counts ${rows} accounts`);
  await page.screenshot({ path: join(shotDir, 'csv-import-done.png'), fullPage: true });
  check(consoleErrors.length === 0, `no console errors: ${JSON.stringify(consoleErrors)}`);
  await submit(page, '#accounts-link');
  check(page.url().startsWith(`${base}/admin/domains/${domain}/accounts`), `on the account list: ${page.url()}`);
  for (const name of ['csv-a00', `csv-a${String(rows - 1).padStart(2, '0')}`]) {
    check(await page.isVisible(`tr[data-name="${name}"]`), `${name} is in the account list`);
  }
  check((await mainText(page)).includes('営業部'), 'the Japanese comment from the Shift_JIS file is shown');
  await close();

  // 3. The Japanese page without JavaScript: a bulk edit, the page refreshing itself.
  const ja = await open({ locale: 'ja-JP', javaScriptEnabled: false });
  const jp = ja.page;
  await signIn(jp, base, 'admin', login, password);
  await jp.goto(csvUrl);
  check((await jp.textContent('h1')).includes('CSV一括登録・一括変更'), 'the CSV page in Japanese');
  check((await mainText(jp)).includes('一括変更用サンプル'), 'the samples are described in Japanese');
  await upload(jp, editFile, 'edit', rows + 1, 'UTF-8');
  check((await jp.textContent('#job-state')).includes('状態'), 'the job page in Japanese');
  const seenJa = await follow(jp, 240000);
  // Without JavaScript only a reload can change what the page shows: the meta refresh did it.
  check(seenJa[0].state === 'queued' || seenJa[0].state === 'running',
    `the page refreshed itself without JavaScript: ${JSON.stringify(seenJa.slice(0, 3))}`);
  check((await jp.getAttribute('#job', 'data-state')) === 'done', 'the edit is done');
  check((await jp.textContent('#report-count')).trim() === String(rows), `${rows} accounts updated`);
  check((await jp.textContent('#report-skipped')).trim() === '1', 'the unknown account was skipped');
  check((await mainText(jp)).includes('変更したアカウント数'), 'the report in Japanese');
  await jp.screenshot({ path: join(shotDir, 'csv-import-edit-ja.png'), fullPage: true });
  // An unknown job number is not a page.
  const r = await jp.goto(`${base}/admin/jobs/999999`);
  check(r.status() === 404, `unknown job: ${r.status()}`);
});
