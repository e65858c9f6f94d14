import { it } from 'vitest';
import net from 'node:net';
import { startHarness } from './fixtures.js';

function raw(port: number, data: string, waitMs = 800): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => { s.destroy(); resolve(out + ' <<TIMEOUT>>'); }, waitMs);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', (e) => (out += ` <<ERR ${(e as {code?:string}).code}>>`));
    s.on('close', () => { clearTimeout(t); resolve(out + ' <<CLOSED>>'); });
    s.write(Buffer.from(data, 'latin1'));
  });
}

const H = 'Host: x\r\n';
const cases: [string, string][] = [
  ['cl+te', `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['te+cl', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`],
  ['dup cl diff', `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`],
  ['dup cl same', `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`],
  ['cl list', `POST /echo HTTP/1.1\r\n${H}Content-Length: 4, 4\r\n\r\nabcd`],
  ['cl plus', `POST /echo HTTP/1.1\r\n${H}Content-Length: +4\r\n\r\nabcd`],
  ['te chunked,identity', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`],
  ['te gzip', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nabcd`],
  ['te xchunked', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
  ['te dup', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`],
  ['te gzip, chunked', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n`],
  ['te CHUNKED', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n4\r\nabcd\r\n0\r\n\r\n`],
  ['te space colon', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`],
  ['te http1.0', `POST /echo HTTP/1.0\r\n${H}Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\nGET /echo HTTP/1.1\r\nHost: y\r\n\r\n`],
  ['chunk bad size', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n`],
  ['chunk overflow', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nabcd\r\n0\r\n\r\n`],
  ['chunk no crlf', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4\r\nabcdX0\r\n\r\n`],
  ['chunk LF only', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4\nabcd\n0\n\n`],
  ['chunk ext', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4;a=b\r\nabcd\r\n0\r\n\r\n`],
  ['chunk size space', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4 \r\nabcd\r\n0\r\n\r\n`],
  ['chunk trailer', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\nX-T: 1\r\n\r\n`],
  ['obs-fold', `GET /echo HTTP/1.1\r\n${H}X-A: one\r\n two\r\n\r\n`],
  ['space before colon', `GET /echo HTTP/1.1\r\n${H}X-A : one\r\n\r\n`],
  ['NUL value', `GET /echo HTTP/1.1\r\n${H}X-A: o\x00ne\r\n\r\n`],
  ['CR value', `GET /echo HTTP/1.1\r\n${H}X-A: o\rne\r\n\r\n`],
  ['LF line', `GET /echo HTTP/1.1\n${H}X-A: one\n\n`],
  ['ctl value', `GET /echo HTTP/1.1\r\n${H}X-A: o\x01ne\r\n\r\n`],
  ['DEL value', `GET /echo HTTP/1.1\r\n${H}X-A: o\x7fne\r\n\r\n`],
  ['obs-text value', `GET /echo HTTP/1.1\r\n${H}X-A: o\xe9ne\r\n\r\n`],
  ['bad name', `GET /echo HTTP/1.1\r\n${H}X(A): one\r\n\r\n`],
  ['empty name', `GET /echo HTTP/1.1\r\n${H}: one\r\n\r\n`],
  ['no colon', `GET /echo HTTP/1.1\r\n${H}X-A one\r\n\r\n`],
  ['absolute', `GET http://evil/echo HTTP/1.1\r\n${H}\r\n`],
  ['asterisk', `OPTIONS * HTTP/1.1\r\n${H}\r\n`],
  ['authority', `CONNECT evil:443 HTTP/1.1\r\n${H}\r\n`],
  ['space target', `GET /e cho HTTP/1.1\r\n${H}\r\n`],
  ['DEL target', `GET /e\x7fcho HTTP/1.1\r\n${H}\r\n`],
  ['high target', `GET /e\xe9cho HTTP/1.1\r\n${H}\r\n`],
  ['fragment target', `GET /echo#x HTTP/1.1\r\n${H}\r\n`],
  ['garbage', `\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03`],
  ['bad version', `GET /echo HTTP/1.7\r\n${H}\r\n`],
  ['http/2.0', `GET /echo HTTP/2.0\r\n${H}\r\n`],
  ['http0.9', `GET /echo\r\n\r\n`],
  ['lower method', `get /echo HTTP/1.1\r\n${H}\r\n`],
  ['1.0 no host', `GET /echo HTTP/1.0\r\n\r\n`],
  ['1.1 no host', `GET /echo HTTP/1.1\r\n\r\n`],
  ['empty host', `GET /echo HTTP/1.1\r\nHost:\r\n\r\n`],
  ['dup host', `GET /echo HTTP/1.1\r\n${H}${H}\r\n`],
  ['bad host', `GET /echo HTTP/1.1\r\nHost: a b/c\r\n\r\n`],
  ['upgrade', `GET /echo HTTP/1.1\r\n${H}Connection: upgrade\r\nUpgrade: websocket\r\n\r\n`],
  ['expect other', `POST /echo HTTP/1.1\r\n${H}Expect: foo\r\nContent-Length: 1\r\n\r\na`],
  ['expect big', `POST /echo HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 99999999999\r\n\r\n`],
  ['expect chunked', `POST /echo HTTP/1.1\r\n${H}Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n`],
  ['many headers', `GET /echo HTTP/1.1\r\n${H}${'a:1\r\n'.repeat(2100)}Content-Length: 3\r\n\r\nabc`],
  ['pipeline then garbage', `GET /slow/300 HTTP/1.1\r\n${H}\r\nGET /e cho HTTP/1.1\r\n\r\n`],
];

it('explore', async () => {
  const h = await startHarness(213, 1, {}, 18313);
  const port = Number(new URL(h.url).port);
  for (const [name, data] of cases) {
    const before = h.pods[0]!.served;
    const out = await raw(port, data);
    const lines = out.split('\r\n');
    const body = out.includes('\r\n\r\n') ? out.slice(out.indexOf('\r\n\r\n') + 4, out.indexOf('\r\n\r\n') + 200) : '';
    console.log(`${name.padEnd(22)} | ${lines[0]} | served+${h.pods[0]!.served - before} | ${body.replace(/\r\n/g, '\\r\\n')} ${out.includes('<<') ? out.slice(out.indexOf('<<')) : ''}`);
  }
  await h.close();
}, 120000);
