cat > M.java <<'J'
import java.nio.*; import java.nio.channels.*; import java.nio.file.*; import java.util.concurrent.*;
public class M { public static void main(String[] a) throws Exception {
  Path p = Paths.get("mm.bin"); try (FileChannel c = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
    MappedByteBuffer b = c.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20); for (int i = 0; i < 1 << 20; i += 4096) b.put(i, (byte) 7); b.force(); }
  System.out.println(Files.size(p) + " " + Files.readAllBytes(p)[4096]);
  Process pr = new ProcessBuilder("sh", "-c", "echo from child; exit 3").redirectErrorStream(true).start();
  System.out.println(new String(pr.getInputStream().readAllBytes()).trim() + " " + pr.waitFor());
  ExecutorService ex = Executors.newFixedThreadPool(4); java.util.List<Future<Integer>> fs = new java.util.ArrayList<>();
  for (int i = 0; i < 16; i++) { final int n = i; fs.add(ex.submit(() -> n * n)); } int s = 0; for (Future<Integer> f : fs) s += f.get(); ex.shutdown(); System.out.println(s);
  WatchService w = FileSystems.getDefault().newWatchService(); Paths.get(".").register(w, StandardWatchEventKinds.ENTRY_CREATE); Files.writeString(Paths.get("new.txt"), "x");
  WatchKey k = w.poll(10, TimeUnit.SECONDS); System.out.println(k != null ? k.pollEvents().get(0).context() : "none");
}}
J
java M.java
