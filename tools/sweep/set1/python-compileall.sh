cp -r /usr/lib/python3*/json j && python3 -m compileall -q j && ls j/__pycache__ | wc -l
