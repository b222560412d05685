echo '{"a":[1,2,3],"b":{"c":"x"}}' | jq -c '(.a|add), (.b|keys)'
