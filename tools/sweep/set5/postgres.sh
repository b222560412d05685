# PostgreSQL 15 as nobody: initdb, start (a unix socket under the working
# directory, no TCP), SQL over psql (10000 rows, an index, aggregates, a
# transaction rolled back, vacuum), then a fast stop.
bin=/usr/lib/postgresql/15/bin
mkdir -p pg/sock && chmod 700 pg
chown -R 65534:65534 pg && echo "chown ok"
stat -c "%U %a" pg pg/sock
as() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$PWD/pg" LC_ALL=C "$@"; }
as $bin/initdb -D "$PWD/pg/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >pg/initdb.log 2>&1 && echo initdb ok
as $bin/pg_ctl -D "$PWD/pg/data" -l "$PWD/pg/log" -w -t 300 \
	-o "-c listen_addresses= -k $PWD/pg/sock -c fsync=off -c shared_buffers=16MB -c max_connections=20" start >/dev/null && echo started
sql() { as $bin/psql -X -q -At -h "$PWD/pg/sock" -U postgres -d "${DB:-postgres}" -v ON_ERROR_STOP=1 "$@"; }
sql -c 'select 1 + 1'
sql -c 'create database t1' && DB=t1 sql <<'SQL'
create table t (id int primary key, v text not null, n int);
insert into t select g, md5(g::text), g % 97 from generate_series(1, 10000) g;
create index t_v on t (v);
analyze t;
select count(*), sum(id), sum(n), md5(string_agg(v, ',' order by id)) from t;
select n, count(*) from t group by n order by count(*) desc, n limit 3;
select count(*) from t where v like 'ab%';
begin; delete from t where id <= 5000; select count(*) from t; rollback;
select count(*) from t;
update t set n = n + 1 where id % 2 = 0;
vacuum t;
select sum(n) from t;
with recursive f(i, a, b) as (select 1, 0::numeric, 1::numeric union all select i + 1, b, a + b from f where i < 90) select b from f where i = 90;
select pg_size_pretty(pg_relation_size('t')) is not null;
SQL
DB=t1 sql -c "copy (select id, v from t where id <= 1000 order by id) to stdout" | md5sum
echo "indexes: $(DB=t1 sql -c "select count(*) from pg_indexes where tablename = 't'")"
as $bin/pg_ctl -D "$PWD/pg/data" -m fast -w -t 300 stop >/dev/null && echo stopped
test -e pg/data/postmaster.pid || echo no pid file
grep -c 'database system is shut down' pg/log
