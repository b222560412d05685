mkdir -p d/e; echo x > d/e/f; ln -s e/f d/l; cp -a d d2; mv d2 d3; chmod 600 d3/e/f; stat -c '%a %F' d3/e/f d3/l; readlink d3/l; rm -r d d3; ls
