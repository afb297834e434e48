// Templates are data: a broken one is refused at start with a message naming
// the file, the field and the problem; a changed one becomes a new version and
// reports keep the version they were filed under.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli, ROOT, startServer, sql } from '../lib/server.mjs';

const shipped = (code) => JSON.parse(readFileSync(path.join(ROOT, 'templates', code + '.json'), 'utf8'));

function dirWith(files) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-tpl-'));
  for (const [name, content] of Object.entries(files))
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

function refused(files, pattern) {
  const dir = dirWith(files);
  const db = path.join(dir, 'x.db');
  const r = cli(['init', '--db', db, '--templates-dir', dir]);
  rmSync(dir, { recursive: true, force: true });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, pattern);
}

test('a broken template is refused, naming file, field and problem', () => {
  const t = shipped('elderly-daily-2022');
  const badType = JSON.parse(JSON.stringify(t));
  badType.sections[0].fields[0].type = 'integr';
  refused({ 'e.json': badType }, /e\.json: field 'residents_present': type must be/);
  const badRule = JSON.parse(JSON.stringify(t));
  badRule.rules[0].right = 'currently_infected + ghosts';
  refused({ 'r.json': badRule }, /r\.json: rule 1: 'ghosts' is not a numeric field/);
  const badExpr = JSON.parse(JSON.stringify(t));
  badExpr.rules[0].left = 'severe_cases +';
  refused({ 'x.json': badExpr }, /x\.json: rule 1: left: /);
  const dup = JSON.parse(JSON.stringify(t));
  dup.sections[1].fields.push({ ...dup.sections[0].fields[0] });
  refused({ 'd.json': dup }, /field code 'residents_present' appears twice/);
  refused({ 'j.json': '{"code": "x",' }, /j\.json: JSON: line 1/);
  const badType2 = JSON.parse(JSON.stringify(t));
  badType2.institution_types = ['hotel'];
  refused({ 'i.json': badType2 }, /unknown institution type 'hotel'/);
  const badRatio = JSON.parse(JSON.stringify(t));
  badRatio.ratios[0].denominator = 'difficulties';
  refused({ 'q.json': badRatio }, /q\.json: ratio 1: denominator 'difficulties' must be a summed number field/);
  const dupRatio = JSON.parse(JSON.stringify(t));
  dupRatio.ratios[1].code = 'residents_present';
  refused({ 'u.json': dupRatio }, /u\.json: ratio 2: code 'residents_present' is already used/);
});

test('a changed template publishes a new version; old reports keep theirs', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-tplv-'));
  const tdir = path.join(dir, 'templates');
  mkdirSync(tdir);
  const t = shipped('elderly-daily-2022');
  writeFileSync(path.join(tdir, 'e.json'), JSON.stringify(t));
  const srv = await startServer({ demo: true, env: { CAREWATCH_TEMPLATES_DIR: tdir } });
  try {
    const rep = await srv.api('jg.dazhi');
    const day = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
    const v = { residents_present: 10, staff_on_duty: 3, closed_management: false, new_infected: 0, currently_infected: 0, severe_cases: 0 };
    const r = await rep.put(`/api/v1/reports/elderly-daily-2022/${rep.user.institution_id}/${day}`, { status: 'submitted', values: v });
    assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body)); // the demo may have filed today already
    assert.equal(r.body.template_version, 1);
    t.title.zh += '（修订）';
    writeFileSync(path.join(tdir, 'e.json'), JSON.stringify(t));
    const again = cli(['init', '--db', srv.db], { env: { CAREWATCH_TEMPLATES_DIR: tdir } });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(sql(srv.db, "SELECT MAX(version) FROM templates WHERE code = 'elderly-daily-2022'"), '2');
    assert.equal(sql(srv.db, `SELECT template_version FROM reports WHERE id = ${r.body.id}`), '1');
    const same = cli(['init', '--db', srv.db], { env: { CAREWATCH_TEMPLATES_DIR: tdir } });
    assert.equal(same.status, 0);
    assert.equal(sql(srv.db, "SELECT MAX(version) FROM templates WHERE code = 'elderly-daily-2022'"), '2', 'unchanged: no new version');
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
