sqlite3 t.db 'create table t(a integer primary key, b text); begin; with recursive c(x) as (select 1 union all select x+1 from c where x<20000) insert into t(b) select hex(randomblob(8)) from c; commit;'
sqlite3 t.db 'select count(*), length(group_concat(b)) from t; pragma integrity_check;'
sqlite3 t.db .dump | wc -l
sqlite3 t.db 'pragma journal_mode=wal; create index ib on t(b); vacuum;' 
sqlite3 t.db 'select count(*) from t where b > "8";' | awk '{print ($1 > 0)}'
