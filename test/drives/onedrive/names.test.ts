import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRemotePathLength, oneDriveNamer } from '../../../src/drives/onedrive/index.js';

const reject = oneDriveNamer('reject');
const encode = oneDriveNamer('encode');

function refusal(result: ReturnType<typeof reject>): { code: string; reason: string } {
  assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
  return result as { ok: false; code: string; reason: string };
}

test('reject names every forbidden character in a name and why', () => {
  for (const ch of ['"', '*', ':', '<', '>', '?', '/', '\\', '|']) {
    const { code, reason } = refusal(reject(`a${ch}b.txt`, false));
    assert.equal(code, 'name-invalid-char');
    assert.ok(reason.includes(`'${ch}'`), reason);
  }
  const { reason } = refusal(reject('what?:now', false));
  assert.match(reason, /'\?' \(U\+003F\), ':' \(U\+003A\)/);
});

test('reject refuses leading and trailing spaces and a trailing period, each with its own code', () => {
  assert.equal(refusal(reject(' a.txt', false)).code, 'name-leading-space');
  assert.equal(refusal(reject('a.txt ', false)).code, 'name-trailing-space');
  assert.equal(refusal(reject('a.', false)).code, 'name-trailing-period');
});

test('reserved names are refused whatever their case, under both policies', () => {
  for (const name of ['.lock', 'CON', 'prn', 'Aux', 'NUL', 'COM0', 'com9', 'LPT1', 'desktop.ini', 'Desktop.INI']) {
    for (const namer of [reject, encode]) {
      const { code, reason } = refusal(namer(name, false));
      assert.equal(code, 'name-reserved');
      assert.ok(reason.includes(name), reason);
    }
  }
});

test('a reserved device name with an extension is allowed, as the service lists bare names only', () => {
  assert.deepEqual(reject('CON.txt', false), { ok: true, name: 'CON.txt' });
  assert.deepEqual(reject('com1.log', false), { ok: true, name: 'com1.log' });
});

test('Office owner files and _vti_ anywhere are refused under both policies', () => {
  for (const namer of [reject, encode]) {
    assert.equal(refusal(namer('~$report.docx', false)).code, 'name-reserved-prefix');
    assert.equal(refusal(namer('a_VTI_b', true)).code, 'name-reserved-substring');
  }
});

test('a folder may not start with a tilde, a file may', () => {
  assert.equal(refusal(reject('~backup', true)).code, 'name-folder-leading-tilde');
  assert.deepEqual(reject('~backup', false), { ok: true, name: '~backup' });
});

test('a name longer than 255 characters is refused with its length', () => {
  const { code, reason } = refusal(reject(`${'a'.repeat(252)}.txt`, false));
  assert.equal(code, 'name-too-long');
  assert.match(reason, /256 characters/);
  assert.equal(reject(`${'a'.repeat(251)}.txt`, false).ok, true);
});

test('an empty name is refused', () => {
  assert.equal(refusal(reject('', false)).code, 'name-empty');
});

test('encode maps forbidden characters to the full-width look-alikes rclone uses', () => {
  assert.deepEqual(encode('a"b*c:d<e>f?g/h\\i|j.txt', false), { ok: true, name: 'a＂b＊c：d＜e＞f？g／h＼i｜j.txt' });
});

test('encode maps edge spaces to a visible space symbol and a trailing period to a full-width one', () => {
  assert.deepEqual(encode(' a ', false), { ok: true, name: '␠a␠' });
  assert.deepEqual(encode('notes.', false), { ok: true, name: 'notes．' });
  assert.deepEqual(encode('  two  ', false), { ok: true, name: '␠ two ␠' });
});

test("encode maps a folder's leading tilde to a full-width one", () => {
  assert.deepEqual(encode('~old', true), { ok: true, name: '～old' });
});

test('a valid name passes unchanged under both policies', () => {
  for (const namer of [reject, encode]) assert.deepEqual(namer('Rechnung #12 (100%).pdf', false), { ok: true, name: 'Rechnung #12 (100%).pdf' });
});

test('a remote path of 400 characters passes and one of 401 is refused', () => {
  const path400 = `/vmb/${'a'.repeat(396)}`;
  assert.equal(checkRemotePathLength(path400), null);
  assert.match(checkRemotePathLength(`${path400}b`) ?? '', /401 characters/);
});
