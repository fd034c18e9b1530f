#!/usr/bin/python3
"""An independent XMPP client for Parley's file transfer tests, on Debian's slixmpp.

Driven over stdin/stdout with JSON lines: each command {"id": n, "cmd": ..., ...}
gets one answer {"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": ...};
things that happen on their own are events {"event": ..., ...}.

slixmpp 1.8 brings XEP-0363 (HTTP File Upload), XEP-0066 (OOB), XEP-0065
(SOCKS5 Bytestreams: its SOCKS5 client and proxy discovery) and XEP-0047
(In-Band Bytestreams) but no Jingle. The Jingle File Transfer layer here
(XEP-0234 with the XEP-0260 and XEP-0261 transports) is a small one written
from the specifications; its bytes move through slixmpp's own IBB streams
and SOCKS5 client, and its SOCKS5 server (direct candidates) is plain asyncio.

Usage: slixmpp-peer.py JID PASSWORD HOST PORT   (SSL_CERT_FILE names the test CA)
"""
import asyncio
import base64
import hashlib
import json
import logging
import os
import sys
import uuid
import xml.etree.ElementTree as ET

import aiohttp
import slixmpp
from slixmpp.xmlstream.handler import CoroutineCallback
from slixmpp.xmlstream.matcher import MatchXPath

NS_JINGLE = 'urn:xmpp:jingle:1'
NS_FT = 'urn:xmpp:jingle:apps:file-transfer:5'
NS_S5B = 'urn:xmpp:jingle:transports:s5b:1'
NS_IBB_T = 'urn:xmpp:jingle:transports:ibb:1'
NS_HASHES = 'urn:xmpp:hashes:2'
NS_OOB = 'jabber:x:oob'
CHUNK = 64 * 1024


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def q(ns, name):
    return '{%s}%s' % (ns, name)


def dstaddr(sid, requester, target):
    return hashlib.sha1(('%s%s%s' % (sid, requester, target)).encode()).hexdigest()


async def socks5_connect(host, port, dst):
    """RFC 1928 CONNECT to the domain name `dst` (XEP-0065 §5.3.2), no authentication."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
    writer.write(b'\x05\x01\x00')
    if await reader.readexactly(2) != b'\x05\x00':
        raise IOError('SOCKS5 method refused')
    writer.write(b'\x05\x01\x00\x03' + bytes([len(dst)]) + dst.encode() + b'\x00\x00')
    head = await reader.readexactly(5)
    if head[1] != 0:
        raise IOError('SOCKS5 connect refused')
    await reader.readexactly(head[4] + 2)
    return reader, writer


class Transfer:
    def __init__(self, sid, peer, initiator):
        self.sid = sid
        self.peer = peer
        self.initiator = initiator
        self.transport_sid = None
        self.transport = None
        self.candidates = []
        self.ready = asyncio.get_event_loop().create_future()
        self.done = asyncio.get_event_loop().create_future()
        self.name = None
        self.size = None
        self.path = None
        self.hash = None
        self.hostile = {}
        self.server = None
        self.direct_conn = None


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for plugin in ['xep_0030', 'xep_0047', 'xep_0065', 'xep_0066', 'xep_0363']:
            self.register_plugin(plugin)
        self['xep_0047'].max_block_size = 65535
        # Streams are opened inside Jingle sessions this client accepted.
        self['xep_0047'].auto_accept = True
        self.transfers = {}
        # What incoming Jingle offers get: {"accept": bool, "dir": path, "transport": "s5b"|"ibb"}.
        self.receive_policy = {'accept': True, 'dir': '/tmp'}
        self.add_event_handler('session_start', self.on_start)
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('ibb_stream_start', self.on_ibb_stream)
        self.register_handler(CoroutineCallback('jingle', MatchXPath('{jabber:client}iq/{%s}jingle' % NS_JINGLE), self.on_jingle))

    def spawn(self, coro):
        async def guarded():
            try:
                await coro
            except Exception as e:
                logging.exception('task failed')
                emit({'event': 'error', 'error': repr(e)})
        return asyncio.ensure_future(guarded())

    async def on_start(self, _event):
        # Once bound: slixmpp keeps disco features per JID.
        for feature in [NS_JINGLE, NS_FT, NS_S5B, NS_IBB_T, NS_OOB]:
            self['xep_0030'].add_feature(feature)
        self.send_presence()
        await self.get_roster()
        emit({'event': 'online', 'jid': str(self.boundjid)})

    def on_message(self, msg):
        url = msg.xml.find('%s/%s' % (q(NS_OOB, 'x'), q(NS_OOB, 'url')))
        if url is not None:
            desc = msg.xml.find('%s/%s' % (q(NS_OOB, 'x'), q(NS_OOB, 'desc')))
            emit({'event': 'oob', 'from': str(msg['from']), 'url': url.text, 'desc': desc.text if desc is not None else None, 'body': msg['body']})
        elif msg['body']:
            emit({'event': 'message', 'from': str(msg['from']), 'body': msg['body']})

    # ---- commands ----

    async def cmd_upload(self, c):
        upload = self['xep_0363']
        if upload.upload_service is None:
            # Debian's slixmpp 1.8.3 fails in its own service lookup on Python 3.11
            # (asyncio.wait with bare coroutines), so the service is found here.
            items = await self['xep_0030'].get_items(jid=self.boundjid.domain, timeout=10)
            for item in items['disco_items']['items']:
                info = await self['xep_0030'].get_info(jid=item[0], timeout=10)
                if 'urn:xmpp:http:upload:0' in info['disco_info']['features']:
                    upload.upload_service = item[0]
                    upload.max_file_size = float('+inf')
        url = await self['xep_0363'].upload_file(c['path'], domain=c.get('domain'), timeout=600)
        return {'url': url}

    async def cmd_send_oob(self, c):
        msg = self.make_message(mto=c['to'], mbody=c.get('body', c['url']), mtype='chat')
        x = ET.SubElement(msg.xml, q(NS_OOB, 'x'))
        ET.SubElement(x, q(NS_OOB, 'url')).text = c['url']
        if c.get('desc'):
            ET.SubElement(x, q(NS_OOB, 'desc')).text = c['desc']
        msg.send()
        return {}

    async def cmd_download(self, c):
        digest = hashlib.sha256()
        size = 0
        async with aiohttp.ClientSession() as session:
            async with session.get(c['url']) as response:
                if response.status != 200:
                    raise IOError('HTTP %d' % response.status)
                with open(c['path'], 'wb') as out:
                    async for chunk in response.content.iter_chunked(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
        return {'sha256': digest.hexdigest(), 'size': size}

    async def cmd_receive_policy(self, c):
        self.receive_policy = c
        return {}

    async def cmd_presence_of(self, c):
        """Full JIDs the peer has seen of a bare JID (to address Jingle)."""
        return {'resources': [str(slixmpp.JID(c['jid']).bare) + '/' + r for r in self.client_roster.presence(c['jid'])]}

    async def cmd_jingle_send(self, c):
        """Offers a file by Jingle (XEP-0234) and returns when it is sent; `hostile` makes it misbehave."""
        t = Transfer(uuid.uuid4().hex, c['to'], True)
        t.path = c['path']
        t.size = os.path.getsize(t.path) if 'announce' not in c else c['announce']
        t.name = c.get('name', os.path.basename(t.path))
        t.hostile = c.get('hostile', {})
        t.transport = c.get('transport', 's5b')
        t.transport_sid = uuid.uuid4().hex
        self.transfers[t.sid] = t
        digest = hashlib.sha256()
        with open(t.path, 'rb') as f:
            for block in iter(lambda: f.read(CHUNK), b''):
                digest.update(block)
        jingle = ET.Element(q(NS_JINGLE, 'jingle'), {'action': 'session-initiate', 'sid': t.sid, 'initiator': str(self.boundjid)})
        content = ET.SubElement(jingle, q(NS_JINGLE, 'content'), {'creator': 'initiator', 'name': 'a-file-offer', 'senders': 'initiator'})
        desc = ET.SubElement(content, q(NS_FT, 'description'))
        f = ET.SubElement(desc, q(NS_FT, 'file'))
        ET.SubElement(f, q(NS_FT, 'name')).text = t.name
        ET.SubElement(f, q(NS_FT, 'size')).text = str(t.size)
        if not t.hostile.get('wrong_hash'):
            ET.SubElement(f, q(NS_HASHES, 'hash'), {'algo': 'sha-256'}).text = base64.b64encode(digest.digest()).decode()
        else:
            ET.SubElement(f, q(NS_HASHES, 'hash'), {'algo': 'sha-256'}).text = base64.b64encode(b'\0' * 32).decode()
        content.append(await self.transport_element(t))
        iq = self.make_iq_set(ito=t.peer)
        iq.xml.append(jingle)
        await iq.send(timeout=30)
        emit({'event': 'offered', 'sid': t.sid})
        result = await asyncio.wait_for(t.done, c.get('timeout', 600))
        return {'sid': t.sid, 'result': result}

    async def transport_element(self, t):
        if t.transport == 'ibb':
            return ET.Element(q(NS_IBB_T, 'transport'), {'sid': t.transport_sid, 'block-size': str(self['xep_0047'].block_size)})
        dst = dstaddr(t.transport_sid, self.boundjid, t.peer)
        tr = ET.Element(q(NS_S5B, 'transport'), {'sid': t.transport_sid, 'mode': 'tcp', 'dstaddr': dst})
        cands = []
        if t.hostile.get('fake_proxy'):
            # Offered in the name of the server's proxy, at some other address.
            host, port, jid = t.hostile['fake_proxy']
            cands.append({'cid': 'fake', 'host': host, 'port': str(port), 'jid': jid, 'priority': '655360', 'type': 'proxy'})
        elif t.hostile.get('streamhost'):
            # An address that is not the peer's: Parley must not go there on its own.
            host, port = t.hostile['streamhost']
            cands.append({'cid': 'elsewhere', 'host': host, 'port': str(port), 'jid': str(self.boundjid), 'priority': '8257536', 'type': 'direct'})
        else:
            if not t.hostile.get('no_direct'):
                t.server = await asyncio.start_server(lambda r, w: self.direct_accept(t, dst, r, w), '127.0.0.1', 0)
                port = t.server.sockets[0].getsockname()[1]
                cands.append({'cid': 'direct', 'host': '127.0.0.1', 'port': str(port), 'jid': str(self.boundjid), 'priority': '8257536', 'type': 'direct'})
            if t.hostile.get('proxy', True):
                for jid, (host, port) in (await self.proxies()).items():
                    cands.append({'cid': 'proxy', 'host': host, 'port': str(port), 'jid': jid, 'priority': '655360', 'type': 'proxy'})
        t.candidates = cands
        for cand in cands:
            ET.SubElement(tr, q(NS_S5B, 'candidate'), cand)
        return tr

    async def proxies(self):
        try:
            found = await self['xep_0065'].discover_proxies(timeout=10)
            return {str(k): v for k, v in found.items()}
        except Exception:  # no proxy on this server
            return {}

    async def direct_accept(self, t, dst, reader, writer):
        try:
            if await reader.readexactly(3) != b'\x05\x01\x00':
                writer.close()
                return
            writer.write(b'\x05\x00')
            head = await reader.readexactly(5)
            asked = (await reader.readexactly(head[4])).decode()
            await reader.readexactly(2)
            if asked != dst:
                writer.write(b'\x05\x02\x00\x01\0\0\0\0\0\0')
                writer.close()
                return
            writer.write(b'\x05\x00\x00\x03' + bytes([len(dst)]) + dst.encode() + b'\x00\x00')
            t.direct_conn = (reader, writer)
        except Exception as e:  # a probe that gave up
            logging.debug('direct accept: %s', e)

    async def send_jingle(self, to, action, sid, *children, **attrs):
        jingle = ET.Element(q(NS_JINGLE, 'jingle'), {'action': action, 'sid': sid, **attrs})
        for child in children:
            jingle.append(child)
        iq = self.make_iq_set(ito=to)
        iq.xml.append(jingle)
        return await iq.send(timeout=30)

    # ---- Jingle in ----

    async def on_jingle(self, iq):
        jingle = iq.xml.find(q(NS_JINGLE, 'jingle'))
        action = jingle.get('action')
        sid = jingle.get('sid')
        t = self.transfers.get(sid)
        iq.reply().send()
        try:
            if action == 'session-initiate':
                await self.incoming_offer(iq, jingle)
            elif t is None:
                return
            elif action == 'session-accept':
                self.spawn(self.sender_start(t, jingle))
            elif action == 'transport-info':
                await self.transport_info(t, jingle)
            elif action == 'transport-replace':
                content = jingle.find(q(NS_JINGLE, 'content'))
                tr = content.find(q(NS_IBB_T, 'transport'))
                t.transport = 'ibb'
                t.transport_sid = tr.get('sid')
                await self.send_jingle(t.peer, 'transport-accept', sid, content)
            elif action == 'transport-accept':
                self.spawn(self.send_ibb(t))
            elif action == 'session-terminate':
                reason = jingle.find(q(NS_JINGLE, 'reason'))
                why = reason[0].tag.split('}')[1] if reason is not None and len(reason) else 'unknown'
                emit({'event': 'terminated', 'sid': sid, 'reason': why})
                if not t.done.done():
                    t.done.set_result(why)
                if t.server is not None:
                    t.server.close()
        except Exception as e:
            emit({'event': 'error', 'sid': sid, 'error': repr(e)})

    async def incoming_offer(self, iq, jingle):
        sid = jingle.get('sid')
        t = Transfer(sid, str(iq['from']), False)
        content = jingle.find(q(NS_JINGLE, 'content'))
        f = content.find('%s/%s' % (q(NS_FT, 'description'), q(NS_FT, 'file')))
        t.name = f.findtext(q(NS_FT, 'name'))
        t.size = int(f.findtext(q(NS_FT, 'size')) or 0)
        h = f.find(q(NS_HASHES, 'hash'))
        t.hash = base64.b64decode(h.text).hex() if h is not None else None
        s5b = content.find(q(NS_S5B, 'transport'))
        ibb = content.find(q(NS_IBB_T, 'transport'))
        self.transfers[sid] = t
        emit({'event': 'jingle_offer', 'sid': sid, 'from': t.peer, 'name': t.name, 'size': t.size, 'hash': t.hash, 'transport': 's5b' if s5b is not None else 'ibb'})
        policy = self.receive_policy
        if not policy.get('accept', True):
            await self.send_jingle(t.peer, 'session-terminate', sid, self.reason('decline'))
            return
        t.path = os.path.join(policy['dir'], os.path.basename(t.name.replace('/', '_')) or 'file')
        desc = content.find(q(NS_FT, 'description'))
        answer = ET.Element(q(NS_JINGLE, 'content'), {'creator': 'initiator', 'name': content.get('name'), 'senders': 'initiator'})
        answer.append(desc)
        if s5b is not None:
            t.transport = 's5b'
            t.transport_sid = s5b.get('sid')
            # No candidates of our own: we connect to theirs.
            answer.append(ET.Element(q(NS_S5B, 'transport'), {'sid': t.transport_sid, 'mode': 'tcp', 'dstaddr': dstaddr(t.transport_sid, self.boundjid, t.peer)}))
            t.candidates = [c.attrib for c in s5b.findall(q(NS_S5B, 'candidate'))]
            if policy.get('only') is not None:
                t.candidates = [c for c in t.candidates if c.get('type', 'direct') == policy['only']]
        else:
            t.transport = 'ibb'
            t.transport_sid = ibb.get('sid')
            answer.append(ibb)
        await self.send_jingle(t.peer, 'session-accept', sid, answer, responder=str(self.boundjid))
        if s5b is not None:
            self.spawn(self.receiver_connect(t, content.get('name')))

    async def receiver_connect(self, t, content_name):
        dst = dstaddr(t.transport_sid, t.peer, self.boundjid)
        for cand in sorted(t.candidates, key=lambda c: -int(c.get('priority', '0'))):
            try:
                reader, writer = await socks5_connect(cand['host'], cand['port'], dst)
            except Exception as e:
                logging.debug('candidate %s failed: %s', cand, e)
                continue
            t.conn = (reader, writer)
            t.used = cand
            tr = ET.Element(q(NS_S5B, 'transport'), {'sid': t.transport_sid})
            ET.SubElement(tr, q(NS_S5B, 'candidate-used'), {'cid': cand['cid']})
            await self.send_jingle(t.peer, 'transport-info', t.sid, self.content(content_name, tr))
            if cand.get('type') != 'proxy':
                self.spawn(self.receive_socket(t, reader))
            return
        tr = ET.Element(q(NS_S5B, 'transport'), {'sid': t.transport_sid})
        ET.SubElement(tr, q(NS_S5B, 'candidate-error'))
        await self.send_jingle(t.peer, 'transport-info', t.sid, self.content(content_name, tr))

    def content(self, name, child):
        c = ET.Element(q(NS_JINGLE, 'content'), {'creator': 'initiator', 'name': name})
        c.append(child)
        return c

    def reason(self, condition, text=None):
        r = ET.Element(q(NS_JINGLE, 'reason'))
        ET.SubElement(r, q(NS_JINGLE, condition))
        if text:
            ET.SubElement(r, q(NS_JINGLE, 'text')).text = text
        return r

    async def transport_info(self, t, jingle):
        tr = jingle.find('%s/%s' % (q(NS_JINGLE, 'content'), q(NS_S5B, 'transport')))
        if tr is None:
            return
        used = tr.find(q(NS_S5B, 'candidate-used'))
        activated = tr.find(q(NS_S5B, 'activated'))
        if t.initiator and used is not None:
            t.ready.set_result(used.get('cid'))
        elif t.initiator and tr.find(q(NS_S5B, 'candidate-error')) is not None:
            t.ready.set_result(None)
        elif not t.initiator and activated is not None:
            self.spawn(self.receive_socket(t, t.conn[0]))

    async def receive_socket(self, t, reader):
        logging.debug('receiving %s over a socket', t.sid)
        digest = hashlib.sha256()
        size = 0
        with open(t.path, 'wb') as out:
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(CHUNK), 20)
                except asyncio.TimeoutError:
                    emit({'event': 'stalled', 'sid': t.sid, 'size': size})
                    break
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if size >= t.size:
                    break
        await self.finish_receive(t, size, digest.hexdigest())

    async def finish_receive(self, t, size, sha):
        emit({'event': 'received', 'sid': t.sid, 'name': t.name, 'path': t.path, 'size': size, 'sha256': sha, 'hash_ok': t.hash is None or t.hash == sha})
        await self.send_jingle(t.peer, 'session-terminate', t.sid, self.reason('success'))

    def on_ibb_stream(self, stream):
        for t in self.transfers.values():
            if t.transport == 'ibb' and t.transport_sid == stream.sid and not t.initiator:
                self.spawn(self.receive_ibb(t, stream))

    async def receive_ibb(self, t, stream):
        digest = hashlib.sha256()
        size = 0
        with open(t.path, 'wb') as out:
            while size < t.size:
                data = await stream.gather(max_data=min(CHUNK, t.size - size) - 1, timeout=600)
                if not data:
                    break
                out.write(data)
                digest.update(data)
                size += len(data)
        await self.finish_receive(t, size, digest.hexdigest())

    # ---- sending ----

    async def sender_start(self, t, jingle):
        if t.transport == 'ibb':
            await self.send_ibb(t)
            return
        cid = await asyncio.wait_for(t.ready, 60)
        content_name = 'a-file-offer'
        if cid is None:
            # Our candidates failed them: fall back to IBB (XEP-0260 §2.4).
            t.transport = 'ibb'
            t.transport_sid = uuid.uuid4().hex
            tr = ET.Element(q(NS_IBB_T, 'transport'), {'sid': t.transport_sid, 'block-size': str(self['xep_0047'].block_size)})
            await self.send_jingle(t.peer, 'transport-replace', t.sid, self.content(content_name, tr))
            return
        cand = next(c for c in t.candidates if c['cid'] == cid)
        if cand['type'] == 'proxy':
            dst = dstaddr(t.transport_sid, self.boundjid, t.peer)
            reader, writer = await socks5_connect(cand['host'], cand['port'], dst)
            await self['xep_0065'].activate(cand['jid'], t.transport_sid, t.peer)
            tr = ET.Element(q(NS_S5B, 'transport'), {'sid': t.transport_sid})
            ET.SubElement(tr, q(NS_S5B, 'activated'), {'cid': cid})
            await self.send_jingle(t.peer, 'transport-info', t.sid, self.content(content_name, tr))
        else:
            reader, writer = t.direct_conn
        await self.write_file(t, writer)

    async def write_file(self, t, writer):
        sent = 0
        limit = t.hostile.get('stop_after')
        with open(t.path, 'rb') as f:
            for block in iter(lambda: f.read(CHUNK), b''):
                if limit is not None and sent + len(block) > limit:
                    block = block[:max(0, limit - sent)]
                    writer.write(block)
                    await writer.drain()
                    emit({'event': 'stopped', 'sid': t.sid, 'sent': sent + len(block)})
                    if t.hostile.get('close'):
                        writer.close()
                    return
                writer.write(block)
                await writer.drain()
                sent += len(block)
            extra = t.hostile.get('extra')
            if extra:
                writer.write(b'X' * extra)
                await writer.drain()
        emit({'event': 'sent', 'sid': t.sid, 'bytes': sent})
        # The receiver ends the session once it has the bytes; the socket closes then.

    async def send_ibb(self, t):
        stream = await self['xep_0047'].open_stream(t.peer, sid=t.transport_sid, block_size=self['xep_0047'].block_size)
        sent = 0
        limit = t.hostile.get('stop_after')
        with open(t.path, 'rb') as f:
            for block in iter(lambda: f.read(stream.block_size), b''):
                if limit is not None and sent >= limit:
                    emit({'event': 'stopped', 'sid': t.sid, 'sent': sent})
                    return
                await stream.sendall(block)
                sent += len(block)
            if t.hostile.get('extra'):
                await stream.sendall(b'X' * t.hostile['extra'])
        emit({'event': 'sent', 'sid': t.sid, 'bytes': sent})
        await stream.close()


async def main():
    jid, password, host, port = sys.argv[1:5]
    logging.basicConfig(level=logging.DEBUG if os.environ.get('PEER_DEBUG') else logging.WARNING, stream=sys.stderr)
    peer = Peer(jid, password)
    peer.connect((host, int(port)))
    loop = asyncio.get_event_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def run(command):
        try:
            handler = getattr(peer, 'cmd_' + command['cmd'])
            result = await handler(command)
            emit({'id': command.get('id'), 'ok': True, **result})
        except Exception as e:
            logging.exception('command %s failed', command.get('cmd'))
            emit({'id': command.get('id'), 'ok': False, 'error': '%s: %s' % (type(e).__name__, e)})

    while True:
        line = await reader.readline()
        if not line:
            break
        command = json.loads(line)
        if command.get('cmd') == 'quit':
            break
        asyncio.ensure_future(run(command))
    peer.disconnect()
    await asyncio.sleep(0.2)


if __name__ == '__main__':
    asyncio.run(main())
