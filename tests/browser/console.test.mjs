// Browser test of the console and the web chat against a running daemon.
//
//   HOTLINE_URL=http://127.0.0.1:8080 HOTLINE_STAFF_USER=.. HOTLINE_STAFF_PASS=..
//   HOTLINE_ADMIN_USER=.. HOTLINE_ADMIN_PASS=.. node tests/browser/console.test.mjs
//
// Debian's Chromium driven by playwright-core.  One line per check, then
// "N passed, M failed"; exit status 1 on any failure.  Screenshots of every
// console page go to tests/out/screenshots/.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.HOTLINE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const STAFF = { user: process.env.HOTLINE_STAFF_USER || 'staff', pass: process.env.HOTLINE_STAFF_PASS || '' };
const ADMIN = { user: process.env.HOTLINE_ADMIN_USER || 'admin', pass: process.env.HOTLINE_ADMIN_PASS || '' };
const SHOTS = path.resolve(here, '..', 'out', 'screenshots');
const T = Number(process.env.HOTLINE_TEST_TIMEOUT_MS || 15000);

let passed = 0;
let failed = 0;
const facts = {};

async function check(name, fn) {
  try {
    const note = await fn();
    passed++;
    console.log(`ok   ${name}${note ? ` — ${note}` : ''}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} — ${String((e && e.message) || e).split('\n')[0]}`);
    return false;
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

fs.mkdirSync(SHOTS, { recursive: true });
for (const f of fs.readdirSync(SHOTS)) if (f.endsWith('.png')) fs.unlinkSync(path.join(SHOTS, f));
// playwright's launch() always starts Chromium on a fresh, temporary
// user-data-dir of its own (it refuses --user-data-dir), removed on close.

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const jsErrors = [];
function watch(page, label) {
  page.on('pageerror', (e) => jsErrors.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|404|409)/.test(m.text())) jsErrors.push(`${label}: ${m.text()}`);
  });
  page.on('dialog', (d) => d.accept());
  page.setDefaultTimeout(T);
}

async function shot(page, name) {
  await page.waitForTimeout(250);               // let charts settle
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function login(page, who) {
  await page.goto(`${BASE}/console/#/login`);
  await page.locator('#login-username').waitFor({ timeout: T });
  await page.fill('#login-username', who.user);
  await page.fill('#login-password', who.pass);
  await page.click('#login-submit');
  await page.locator('[data-testid="page-queue"]').waitFor({ timeout: T });
  await page.locator('#me').waitFor({ timeout: T });
}

async function logout(page) {
  await page.click('#logout');
  await page.locator('#login-form').waitFor({ timeout: T });
}

// An API call from inside the logged-in page (session cookie + CSRF token).
async function pageApi(page, method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const me = await (await fetch('/api/me')).json();
    const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf || '' }, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch { /* none */ }
    return { status: r.status, data };
  }, { method, url, body });
}

const desktop = { viewport: { width: 1360, height: 860 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };

const staffCtx = await browser.newContext(desktop);
const staff = await staffCtx.newPage();
watch(staff, 'staff');
const citizenCtx = await browser.newContext(phone);
const citizen = await citizenCtx.newPage();
watch(citizen, 'citizen');

let caseText = '';
let suggestion = '';
let replyText = '';

try {
  // ---------------- staff ----------------
  await check('daemon answers /healthz', async () => {
    const r = await staff.request.get(`${BASE}/healthz`);
    assert(r.ok(), `HTTP ${r.status()}`);
    return JSON.stringify(await r.json());
  });

  await check('console login page renders in Vietnamese', async () => {
    await staff.goto(`${BASE}/console/`);
    await staff.locator('#login-form').waitFor({ timeout: T });
    const h1 = await staff.locator('#login-form h1').textContent();
    assert(h1.includes('Đăng nhập'), `heading "${h1}"`);
    await shot(staff, '01-dang-nhap');
  });

  await check('wrong password is refused with a message', async () => {
    await staff.fill('#login-username', STAFF.user);
    await staff.fill('#login-password', `${STAFF.pass}-sai`);
    await staff.click('#login-submit');
    await staff.locator('#login-error:not([hidden])').waitFor({ timeout: T });
  });

  const staffIn = await check('staff logs in and lands on Hàng chờ', async () => {
    await login(staff, STAFF);
    const role = await staff.locator('[data-testid="me-role"]').textContent();
    return `role shown: ${role}`;
  });

  await check('staff does not see admin pages', async () => {
    assert(await staff.locator('[data-testid="nav-queue"]').count() === 1, 'no Hàng chờ link');
    for (const p of ['entries', 'proposals', 'stats', 'users', 'audit', 'settings']) {
      assert(await staff.locator(`[data-testid="nav-${p}"]`).count() === 0, `staff sees nav-${p}`);
    }
    const r = await pageApi(staff, 'GET', '/api/users');
    assert(r.status === 403, `GET /api/users as staff -> ${r.status}, want 403`);
  });

  await check('pick an out-of-scope message the bot escalates with suggestions (POST /api/try)', async () => {
    assert(staffIn, 'not logged in');
    const pool = [
      'Nhà tôi nuôi chó mèo bị lạc thì đăng ký tìm ở đâu?',
      'Cho hỏi xin giấy phép nuôi chim cảnh cần giấy tờ gì?',
      'Tôi muốn hỏi về học bổng du học cho con ở đâu',
      'Hỏi thủ tục đổi tên đường phố nhà tôi thế nào?',
      'Cho tôi hỏi vé xe buýt tháng mua ở đâu?',
      'Xin chào, tôi có câu hỏi về con mèo',
      'Đăng ký tham gia câu lạc bộ dưỡng sinh cho người cao tuổi ở đâu?',
      'Hồ sơ xin học bổng cho con cần giấy tờ gì?',
      'Ở đâu cho thuê sân bóng đá mini giá rẻ?',
      'Làm thế nào để đăng ký thi bằng lái tàu thủy?',
    ];
    let fallback = null;
    for (const text of pool) {
      const r = await pageApi(staff, 'POST', '/api/try', { text });
      assert(r.status === 200, `POST /api/try -> ${r.status} ${JSON.stringify(r.data)}`);
      const d = r.data;
      if (d.decision === 'escalate' && (d.candidates || []).length) { caseText = text; facts.try = d; break; }
      if (d.decision === 'escalate' && !fallback) fallback = text;
    }
    if (!caseText) caseText = fallback;
    assert(caseText, 'every message in the pool was answered automatically');
    return `"${caseText}" -> ${facts.try ? `${facts.try.reason}, ${facts.try.candidates.length} candidates` : 'escalate without candidates'}`;
  });

  await check('citizen web chat page loads (/ and /chat/)', async () => {
    await citizen.goto(`${BASE}/`);
    await citizen.locator('body.ready #chat-input').waitFor({ timeout: T });
    await citizen.goto(`${BASE}/chat/`);
    await citizen.locator('body.ready #chat-input').waitFor({ timeout: T });
    await shot(citizen, '20-chat-trong');
  });

  await staff.evaluate(() => { window.__noReload = 'still-here'; });
  const before = await staff.locator('[data-testid="case-item"]').count();

  const sent = await check('citizen sends the message and gets the holding reply', async () => {
    assert(caseText, 'no message chosen');
    await citizen.fill('#chat-input', caseText);
    await citizen.click('#chat-send');
    await citizen.locator('[data-testid="chat-msg"][data-direction="in"]').first().waitFor({ timeout: T });
    const out = citizen.locator('[data-testid="chat-msg"][data-direction="out"]');
    await out.first().waitFor({ timeout: T });
    return `reply: "${(await out.last().innerText()).replace(/\s+/g, ' ').slice(0, 90)}"`;
  });

  let caseItem = null;
  const live = await check('the case appears LIVE in the staff queue (no reload)', async () => {
    assert(sent, 'message not sent');
    caseItem = staff.locator('[data-testid="case-item"]', { hasText: caseText.slice(0, 40) }).first();
    await caseItem.waitFor({ timeout: T });
    const marker = await staff.evaluate(() => window.__noReload);
    assert(marker === 'still-here', 'the page was reloaded');
    const after = await staff.locator('[data-testid="case-item"]').count();
    const reason = (await caseItem.locator('[data-testid="case-reason"]').textContent()).trim();
    const wait1 = await caseItem.locator('[data-testid="case-wait"]').textContent();
    await staff.waitForTimeout(2100);
    const wait2 = await caseItem.locator('[data-testid="case-wait"]').textContent();
    assert(wait1 !== wait2, `waiting time does not tick (${wait1})`);
    return `${before} -> ${after} cases, reason "${reason}", waiting ${wait2}`;
  });

  const claimed = await check('staff opens and claims the case', async () => {
    assert(live, 'no case');
    await caseItem.click();
    await staff.locator('#case-claim').click({ timeout: T });
    await staff.locator('#case-status[data-status="claimed"]').waitFor({ timeout: T });
    await staff.locator('[data-testid="msg"][data-direction="in"]', { hasText: caseText.slice(0, 30) }).first().waitFor({ timeout: T });
  });

  const inserted = await check('one click inserts a bot suggestion into the reply box', async () => {
    assert(claimed, 'not claimed');
    const btn = staff.locator('[data-testid="suggestion-insert"]').first();
    await btn.waitFor({ timeout: T });
    suggestion = (await staff.locator('[data-testid="suggestion"] .sugg-a').first().textContent()) || '';
    await btn.click();
    const value = await staff.inputValue('#reply-text');
    assert(value && value === suggestion, `reply box has "${value.slice(0, 60)}"`);
    return `${value.length} chars`;
  });

  await shot(staff, '03-hang-cho-ho-so');

  const replied = await check('staff sends the reply; it shows with a delivery status', async () => {
    assert(claimed, 'not claimed');
    if (!inserted) await staff.fill('#reply-text', 'Cán bộ tổng đài trả lời: bạn vui lòng liên hệ UBND phường nơi cư trú.');
    replyText = (await staff.inputValue('#reply-text')).trim();
    await staff.click('#reply-send');
    const mine = staff.locator('[data-testid="msg"][data-direction="out"]', { hasText: replyText.slice(0, 40) }).last();
    await mine.waitFor({ timeout: T });
    const stEl = mine.locator('[data-testid="msg-status"]');
    await stEl.waitFor({ timeout: T });
    return `status "${await stEl.textContent()}" (${await stEl.getAttribute('data-status')})`;
  });

  await check('the reply reaches the citizen\'s chat page (GET /chat/poll)', async () => {
    assert(replied, 'no reply');
    const want = replyText.slice(0, 40);
    await citizen.locator('[data-testid="chat-msg"][data-direction="out"]', { hasText: want }).first().waitFor({ timeout: T + 10000 });
    const poll = await citizen.evaluate(async () => (await fetch('/chat/poll?after=0')).json());
    assert((poll.messages || []).some((m) => (m.text || '').trim() === replyText), 'GET /chat/poll?after=0 does not list the reply');
  });

  await check('hostile citizen text joins the open case live and is shown as plain text', async () => {
    assert(claimed, 'not claimed');
    const evil = '<img src=x onerror="window.__xss=1"><b>còn</b> cần giấy tờ gì nữa?';
    await citizen.fill('#chat-input', evil);
    await citizen.click('#chat-send');
    const msg = staff.locator('[data-testid="msg"][data-direction="in"]', { hasText: 'cần giấy tờ gì nữa?' }).last();
    await msg.waitFor({ timeout: T });
    const shown = (await msg.locator('.msg-text').textContent()).trim();
    assert(shown === evil, `shown as "${shown}"`);
    assert(await staff.locator('#conversation img, #conversation b').count() === 0, 'markup was rendered');
    assert(await staff.evaluate(() => window.__xss) === undefined, 'script ran in the console');
    assert(await citizen.evaluate(() => window.__xss) === undefined, 'script ran in the chat page');
  });

  await check('delivery status of the reply is not a failure', async () => {
    assert(replied, 'no reply');
    const mine = staff.locator('[data-testid="msg"][data-direction="out"]', { hasText: replyText.slice(0, 40) }).last();
    await staff.waitForTimeout(1500);
    const st = await mine.getAttribute('data-status');
    assert(st !== 'failed', `failed: ${await mine.locator('[data-testid="msg-error"]').textContent().catch(() => '')}`);
    return st;
  });
  await shot(citizen, '21-chat-tra-loi');

  await check('staff resolves the case with a proposal "should have matched entry X"', async () => {
    assert(claimed, 'not claimed');
    await staff.click('#case-resolve');
    await staff.locator('#resolve-dialog').waitFor({ timeout: T });
    if (await staff.locator('#resolve-entry option').count() > 1) {
      await staff.check('#resolve-mode-match');
    }
    await shot(staff, '04-hang-cho-ket-thuc');
    await staff.click('#resolve-submit');
    await staff.locator('#resolve-dialog').waitFor({ state: 'detached', timeout: T });
    await staff.locator('#case-status[data-status="resolved"]').waitFor({ timeout: T });
  });

  await check('staff try page works (Thử câu hỏi)', async () => {
    await staff.click('[data-testid="nav-try"]');
    await staff.fill('#try-text', 'làm căn cước lần đầu cần gì');
    await staff.click('#try-submit');
    await staff.locator('#try-result').waitFor({ timeout: T });
  });

  await staff.click('[data-testid="nav-queue"]');
  await staff.locator('[data-testid="page-queue"]').waitFor({ timeout: T });
  await shot(staff, '02-hang-cho');

  // Phone layout of the queue.
  await check('queue is usable on a phone (390 px)', async () => {
    const pctx = await browser.newContext(phone);
    const p = await pctx.newPage();
    watch(p, 'staff-phone');
    await login(p, STAFF);
    await p.locator('#queue-list').waitFor({ state: 'attached', timeout: T });
    await p.waitForTimeout(500);
    await shot(p, '30-dien-thoai-hang-cho');
    let overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `queue is ${overflow}px wider than the phone`);
    await p.selectOption('#queue-filter', 'resolved');
    await p.locator('[data-testid="case-item"]').first().click();
    await p.locator('#case-title').waitFor({ timeout: T });
    await p.locator('[data-testid="msg"]').first().waitFor({ timeout: T });
    await shot(p, '31-dien-thoai-ho-so');
    overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `case view is ${overflow}px wider than the phone`);
    await pctx.close();
  });

  await check('staff logs out', async () => { await logout(staff); });

  // ---------------- admin ----------------
  const admin = staff;
  const adminIn = await check('admin logs in and sees every page', async () => {
    await login(admin, ADMIN);
    for (const p of ['queue', 'entries', 'try', 'proposals', 'stats', 'users', 'audit', 'settings']) {
      assert(await admin.locator(`[data-testid="nav-${p}"]`).count() === 1, `no nav-${p}`);
    }
  });

  const kw = `kiemthu${Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6)}`;
  const tryText = `cho tôi hỏi ${kw}`;
  let target = '';

  await check('try page: before the edit, the new keyword matches nothing', async () => {
    assert(adminIn, 'not admin');
    await admin.click('[data-testid="nav-try"]');
    await admin.fill('#try-text', tryText);
    await admin.click('#try-submit');
    await admin.locator('#try-result').waitFor({ timeout: T });
    const hits = await admin.locator(`#try-result [data-testid="try-term"][data-term="${kw}"]`).count();
    assert(hits === 0, `${kw} already matches`);
  });

  await check('Kho câu hỏi lists entries and searches', async () => {
    assert(adminIn, 'not admin');
    await admin.click('[data-testid="nav-entries"]');
    await admin.locator('[data-testid="entry-row"]').first().waitFor({ timeout: T });
    const n = await admin.locator('[data-testid="entry-row"]').count();
    await admin.fill('#entries-search', 'hộ chiếu');
    await admin.waitForFunction((n0) => document.querySelectorAll('[data-testid="entry-row"]').length < n0, n, { timeout: T });
    const m = await admin.locator('[data-testid="entry-row"]').count();
    assert(m >= 1, 'search found nothing for "hộ chiếu"');
    return `${n} entries, ${m} for "hộ chiếu"`;
  });

  const edited = await check('admin adds a keyword to an entry and saves', async () => {
    const row = admin.locator('[data-testid="entry-row"]').first();
    target = await row.getAttribute('data-entry-id');
    await row.click();
    await admin.locator('#entry-form').waitFor({ timeout: T });
    await admin.click('#kw-add');
    await admin.locator('[data-testid="kw-term"]').last().fill(kw);
    await admin.locator('[data-testid="kw-weight"]').last().fill('6');
    await admin.click('#entry-save');
    await admin.locator('[data-testid="toast-success"]').first().waitFor({ timeout: T });
    const r = await pageApi(admin, 'GET', `/api/entries/${encodeURIComponent(target)}`);
    const entry = r.data && (r.data.entry || r.data);
    assert((entry.keywords || []).some((k) => k.term === kw), 'keyword not saved');
    return `entry ${target}`;
  });

  await check('SMS segment count of answer_sms updates as you type', async () => {
    await admin.locator('#entry-answer-sms').waitFor({ timeout: T });
    await admin.locator('#sms-count').filter({ hasText: 'tin SMS' }).waitFor({ timeout: T });
    const first = await admin.locator('#sms-count').textContent();
    const orig = await admin.inputValue('#entry-answer-sms');
    await admin.fill('#entry-answer-sms', `${orig} ${orig} ${orig}`);
    await admin.waitForFunction((t) => { const e = document.getElementById('sms-count'); return e && e.textContent !== t && /tin SMS/.test(e.textContent); }, first, { timeout: T });
    const second = await admin.locator('#sms-count').textContent();
    await admin.fill('#entry-answer-sms', orig);   // not saved: put it back
    return `"${first}" -> "${second}"`;
  });
  await shot(admin, '05-kho-cau-hoi');

  await check('try page shows the new match, side by side with the previous result', async () => {
    assert(edited, 'not edited');
    await admin.click('[data-testid="nav-try"]');
    await admin.locator('#try-again').click({ timeout: T });
    await admin.locator('#try-previous').waitFor({ timeout: T });
    const cand = admin.locator(`#try-result [data-testid="try-candidate"][data-entry-id="${target}"]`);
    await cand.waitFor({ timeout: T });
    assert(await cand.locator(`[data-testid="try-term"][data-term="${kw}"]`).count() >= 1, `term ${kw} not in the explanation`);
    await admin.locator('#try-diff').waitFor({ timeout: T });
    const dec = await admin.locator('[data-testid="try-result-decision"]').getAttribute('data-decision');
    return `decision ${dec}`;
  });
  await shot(admin, '06-thu-cau-hoi');

  await check('Đề xuất page lists the staff proposal', async () => {
    await admin.click('[data-testid="nav-proposals"]');
    await admin.locator('#proposals-list').waitFor({ timeout: T });
    await admin.locator('#proposals-list [data-testid="proposal"], #proposals-list .empty').first().waitFor({ timeout: T });
    const n = await admin.locator('[data-testid="proposal"]').count();
    await shot(admin, '07-de-xuat');
    return `${n} pending`;
  });

  await check('admin accepts the proposal; it leaves the pending list', async () => {
    const card = admin.locator('[data-testid="proposal"]').first();
    await card.waitFor({ timeout: T });
    const id = await card.getAttribute('data-proposal-id');
    await card.locator('[data-testid="proposal-accept"]').click();
    await admin.locator('[data-testid="toast-success"]').first().waitFor({ timeout: T });
    await admin.locator(`[data-testid="proposal"][data-proposal-id="${id}"]`).waitFor({ state: 'detached', timeout: T });
    await admin.click('[data-testid="proposals-tab-accepted"]');
    await admin.locator(`[data-testid="proposal"][data-proposal-id="${id}"] [data-testid="proposal-decided"]`).waitFor({ timeout: T });
    return `proposal #${id}`;
  });

  await check('Thống kê draws its charts', async () => {
    await admin.click('[data-testid="nav-stats"]');
    await admin.locator('[data-testid="kpi-in"]').waitFor({ timeout: T });
    assert(await admin.locator('svg.chart').count() >= 2, 'fewer than 2 charts');
    const kin = await admin.locator('[data-testid="kpi-in"] .kpi-value').textContent();
    await shot(admin, '08-thong-ke');
    return `messages in: ${kin}`;
  });

  await check('Người dùng lists both accounts', async () => {
    await admin.click('[data-testid="nav-users"]');
    await admin.locator('[data-testid="user-row"]').first().waitFor({ timeout: T });
    for (const u of [STAFF.user, ADMIN.user]) {
      assert(await admin.locator(`[data-testid="user-row"][data-username="${u}"]`).count() === 1, `${u} missing`);
    }
    await shot(admin, '09-nguoi-dung');
  });

  await check('Nhật ký shows the keyword edit', async () => {
    await admin.click('[data-testid="nav-audit"]');
    await admin.locator('[data-testid="audit-row"]').first().waitFor({ timeout: T });
    const text = await admin.locator('#audit-table').innerText();
    assert(text.includes(target), `no audit row for ${target}`);
    await shot(admin, '10-nhat-ky');
  });

  await check('Cài đặt loads the settings and the lexicon', async () => {
    await admin.click('[data-testid="nav-settings"]');
    await admin.locator('#set-threshold').waitFor({ timeout: T });
    const v = await admin.inputValue('#set-threshold');
    assert(v !== '', 'threshold empty');
    await admin.locator('#lexicon-info').filter({ hasText: 'từ viết tắt' }).waitFor({ timeout: T });
    await shot(admin, '11-cai-dat');
    return `threshold ${v}`;
  });

  await check('export downloads the corpus as JSON', async () => {
    await admin.click('[data-testid="nav-entries"]');
    await admin.locator('[data-testid="entry-row"]').first().waitFor({ timeout: T });
    const [dl] = await Promise.all([admin.waitForEvent('download', { timeout: T }), admin.click('#export')]);
    const file = await dl.path();
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert(Array.isArray(doc.entries) && doc.entries.length > 0, 'no entries in the export');
    return `${dl.suggestedFilename()}, ${doc.entries.length} entries`;
  });

  await check('import of a CSV file adds an entry (POST /api/import)', async () => {
    const q = `Hỏi thử nhập tệp ${kw}?`;
    const csv = `question,answer,keywords\n"${q}","Câu trả lời thử cho việc nhập tệp.","${kw}nhap"\n`;
    await admin.setInputFiles('#import-file', { name: 'thu-nhap.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await admin.locator('#import-result:not([hidden])').waitFor({ timeout: T });
    const text = await admin.locator('#import-result').innerText();
    assert(/Đã nhập [1-9]/.test(text), text);
    await admin.fill('#entries-search', kw);
    await admin.locator('[data-testid="entry-row"]', { hasText: 'nhập tệp' }).first().waitFor({ timeout: T });
    return text.split('\n')[0];
  });

  await check('no JavaScript errors in the pages', async () => {
    assert(jsErrors.length === 0, jsErrors.slice(0, 3).join(' | '));
  });
} catch (e) {
  failed++;
  console.log(`FAIL test aborted — ${e.message.split('\n')[0]}`);
} finally {
  await browser.close().catch(() => {});
}

console.log(`screenshots: ${path.relative(process.cwd(), SHOTS) || SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
