find /usr/lib /usr/share/perl* -name '*.so*' 2>/dev/null | wc -l; du -s --apparent-size /usr/include | cut -f1; ls -R /usr/share/zoneinfo | wc -l
