pip3 --version | cut -d' ' -f1-2; pip3 list 2>/dev/null | head -3 | wc -l
