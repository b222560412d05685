# java: javac, a jar with a manifest, a thread pool, ProcessBuilder, NIO
# file walking and a local HTTP server and client (java.net.http).
mkdir -p src/demo
cat >src/demo/Main.java <<'J'
package demo;
import java.util.concurrent.*; import java.nio.file.*; import java.net.*; import java.net.http.*;
import com.sun.net.httpserver.HttpServer;
public class Main {
  public static void main(String[] a) throws Exception {
    ExecutorService ex = Executors.newFixedThreadPool(4);
    long sum = 0;
    java.util.List<Callable<Long>> jobs = java.util.List.of(() -> 1L, () -> 2L, () -> 3L, () -> 4L);
    for (Future<Long> f : ex.invokeAll(jobs)) sum += f.get();
    ex.shutdown();
    System.out.println("pool sum " + sum);
    Process p = new ProcessBuilder("sh", "-c", "echo from child; exit 5").start();
    System.out.println(new String(p.getInputStream().readAllBytes()).trim() + " exit " + p.waitFor());
    Files.createDirectories(Paths.get("tree/a/b"));
    Files.writeString(Paths.get("tree/a/b/f.txt"), "x");
    try (var s = Files.walk(Paths.get("tree"))) { System.out.println("walk " + s.count()); }
    HttpServer srv = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    srv.createContext("/", h -> { byte[] b = "hi from java".getBytes(); h.sendResponseHeaders(200, b.length); h.getResponseBody().write(b); h.close(); });
    srv.start();
    HttpClient c = HttpClient.newHttpClient();
    var r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + srv.getAddress().getPort() + "/")).build(), HttpResponse.BodyHandlers.ofString());
    System.out.println(r.statusCode() + " " + r.body());
    srv.stop(0);
  }
}
J
javac -d out src/demo/Main.java && echo compiled
printf 'Main-Class: demo.Main\n' >manifest
jar cfm demo.jar manifest -C out . && jar tf demo.jar | grep -c class
java -jar demo.jar
echo done
