zsh -c 'for i in {1..5}; do echo $i; done | sort -r; print -l ${(s:,:)${:-a,b,c}}'
