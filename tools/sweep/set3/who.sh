who | wc -l; w -h | wc -l; id -un; groups | wc -w
