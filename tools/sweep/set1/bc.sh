echo '2^1000' | bc | md5sum
