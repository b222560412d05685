seq 1 300000 > f; xz -T2 -k f && xz -dc f.xz | md5sum; gzip -9 -k f && gunzip -c f.gz | md5sum
