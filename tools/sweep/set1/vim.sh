printf 'hello a\nworld a\n' > f; vim -es -u NONE -c '%s/a/b/g' -c 'wq' f; cat f
