#!/usr/bin/env python3
"""Send one message through a running Parley core: parley_send.py ACCOUNT TO TEXT (home: PARLEY_HOME)."""
import json, os, socket, sys

home = os.environ.get('PARLEY_HOME') or os.path.join(os.environ.get('XDG_DATA_HOME') or os.path.expanduser('~/.local/share'), 'parley')
stream = socket.socket(socket.AF_UNIX)
stream.connect(os.path.join(home, 'run', 'parley.sock'))
stream = stream.makefile('rwb')

def call(method, *params, ids=[0]):
    ids[0] += 1
    body = json.dumps({'jsonrpc': '2.0', 'id': ids[0], 'method': method, 'params': list(params)}).encode()
    stream.write(b'Content-Length: %d\r\n\r\n%s' % (len(body), body))
    stream.flush()
    while True:  # skip notifications (events) until our answer comes
        headers = dict(line.decode().lower().split(':', 1) for line in iter(lambda: stream.readline().strip(), b''))
        answer = json.loads(stream.read(int(headers['content-length'])))
        if answer.get('id') == ids[0]:
            if 'error' in answer:
                sys.exit('parley: %s' % answer['error']['message'])
            return answer['result']

call('parley.hello', {'protocolVersion': '1.0', 'client': 'parley_send.py'})
account, to, text = sys.argv[1:4]
call('accounts.connect', account)  # already online in the owner: returns at once
message = call('conversations.sendIm', account, to, text)
print('sent' if message and message['delivery'] == 'sent' else 'not sent')
