#!/usr/bin/env python3
# Fake htier-provisiond end of the org.htier.0 chardev for agent_smoke.sh:
# absent at first, reads reports, sends a quota and junk, restarts, sends
# another quota, and prints what it saw.
import json
import socket
import sys
import time
path = sys.argv[1]
def connect():
    for _ in range(200):
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(path); return s
        except OSError: time.sleep(0.1)
    sys.exit("no socket")
time.sleep(9)   # host absent while the guest boots and the agent starts (~7 s boot)
s = connect(); f = s.makefile('rwb'); print("HOST connected", flush=True)
for i in range(2):
    m = json.loads(f.readline()); print("HOST got", m['seq'], m['fast_resident_bytes'], m['quota_bytes'], m.get('quota_unlimited'), m.get('curve'), flush=True)
f.write(b'{"v":1,"type":"quota","seq":1,"fast_bytes":123456789,"effective_in_ms":1000}\n'); f.write(b'junk\n'); f.flush()
m = json.loads(f.readline()); print("HOST got", m['seq'], m['quota_bytes'], m.get('quota_seq'), flush=True)
s.close(); print("HOST restart", flush=True); time.sleep(1.5)
s = connect(); f = s.makefile('rwb')
m = json.loads(f.readline()); print("HOST2 got", m['seq'], m['quota_bytes'], flush=True)
f.write(b'{"v":1,"type":"quota","seq":2,"fast_bytes":99999999,"effective_in_ms":1000}\n'); f.flush()
m = json.loads(f.readline()); print("HOST2 got", m['seq'], m['quota_bytes'], m.get('quota_seq'), flush=True)
print('HOST OK', flush=True)
time.sleep(30)
