package samples;

import java.io.File;
import java.io.FileOutputStream;
import java.lang.instrument.Instrumentation;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import com.sun.tools.attach.VirtualMachine;

/**
 * A program whose own tooling (a profiler, a mocking library, a hot-swap tool) retransforms one
 * of its loaded classes, here through a minimal agent of its own attached at run time (its jar
 * is written by the program: a manifest naming {@link RetransformSample}). The class has a
 * synchronized method. Prints "retransformed" or the error, then calls the method.
 * Needs -Djdk.attach.allowAttachSelf=true.
 */
public final class RetransformSample {
    static volatile Instrumentation inst;

    static final class Counter {
        private int n;

        synchronized int next() {
            return ++n;
        }
    }

    public static void agentmain(String args, Instrumentation i) {
        inst = i;
    }

    public static void main(String[] args) throws Exception {
        Counter c = new Counter();
        c.next();
        File jar = File.createTempFile("retransform-tool", ".jar");
        jar.deleteOnExit();
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(new Attributes.Name("Agent-Class"), RetransformSample.class.getName());
        mf.getMainAttributes().put(new Attributes.Name("Can-Retransform-Classes"), "true");
        try (JarOutputStream out = new JarOutputStream(new FileOutputStream(jar), mf)) {
            out.flush();
        }
        VirtualMachine vm = VirtualMachine.attach(String.valueOf(ProcessHandle.current().pid()));
        try {
            vm.loadAgent(jar.getPath(), "");
        } finally {
            vm.detach();
        }
        try {
            inst.retransformClasses(Counter.class);
            System.out.println("retransformed");
        } catch (Throwable t) {
            System.out.println("retransform failed: " + t);
        }
        System.out.println("next " + c.next());
    }
}
