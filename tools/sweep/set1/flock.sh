touch l; flock -x l -c 'echo locked'; flock -n l true && echo free
