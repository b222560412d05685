mkdir -p src/p && printf 'package p; public class M { public static void main(String[] a) { System.out.println(java.util.stream.IntStream.range(0, 1000).parallel().sum()); } }' > src/p/M.java
javac -d cls src/p/M.java && printf 'Main-Class: p.M\n' > man && jar cfm m.jar man -C cls . && java -jar m.jar
