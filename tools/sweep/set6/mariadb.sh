# MariaDB: install a data directory, start mariadbd on a unix socket (no
# TCP), SQL through the client (InnoDB tables, a transaction, an index,
# a join), mysqldump, then shutdown.
mkdir -p db/data db/run
mariadb-install-db --no-defaults --datadir="$PWD/db/data" --user=root --auth-root-authentication-method=normal \
	--skip-test-db >db/install.log 2>&1 && echo installed
mariadbd --no-defaults --datadir="$PWD/db/data" --socket="$PWD/db/run/s" --skip-networking --user=root \
	--pid-file="$PWD/db/run/pid" --innodb-buffer-pool-size=32M --log-error="$PWD/db/err.log" &
m=$!
q() { mariadb --no-defaults -S "$PWD/db/run/s" -u root -N -B "$@"; }
for _ in $(seq 600); do q -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
q -e 'select 1 + 1'
q <<'SQL'
create database t;
use t;
set session max_recursive_iterations = 10000;
create table a (id int primary key, v varchar(40), n int, key (n)) engine=innodb;
create table b (n int primary key, name varchar(20)) engine=innodb;
insert into b values (0, 'zero'), (1, 'one'), (2, 'two');
insert into a with recursive s(i) as (select 1 union all select i + 1 from s where i < 5000) select i, md5(i), i % 3 from s;
select count(*), sum(id), md5(group_concat(v order by id)) from a;
select b.name, count(*) from a join b using (n) group by b.name order by b.name;
start transaction; delete from a where id > 100; select count(*) from a; rollback;
select count(*) from a;
select engine from information_schema.tables where table_schema = 't' order by table_name;
SQL
mariadb-dump --no-defaults -S "$PWD/db/run/s" -u root --skip-dump-date --skip-comments t b | grep -i 'insert into'
mariadb-admin --no-defaults -S "$PWD/db/run/s" -u root shutdown && echo shut down
wait $m; echo "mariadbd exited $?"
