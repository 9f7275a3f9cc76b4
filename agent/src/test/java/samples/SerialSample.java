package samples;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Serializable class without an explicit serialVersionUID that has a synchronized method
 * (common: a shopping cart, a cached value). "write FILE" serializes one to FILE; "read FILE"
 * deserializes it (data written by another JVM, e.g. one running without the agent). Both print
 * the class's default serialVersionUID.
 */
public final class SerialSample {
    static final class Cart implements Serializable {
        private int hits;

        synchronized void hit() {
            hits++;
        }

        synchronized int hits() {
            return hits;
        }
    }

    public static void main(String[] args) throws Exception {
        System.out.println("serialVersionUID " + ObjectStreamClass.lookup(Cart.class).getSerialVersionUID());
        Path file = Path.of(args[1]);
        if (args[0].equals("write")) {
            Cart s = new Cart();
            s.hit();
            s.hit();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(s);
            }
            Files.write(file, bytes.toByteArray());
            System.out.println("written");
        } else {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(Files.readAllBytes(file)))) {
                Cart s = (Cart) in.readObject();
                System.out.println("read, hits " + s.hits());
            } catch (Exception e) {
                System.out.println("read failed: " + e);
            }
        }
    }
}
