package org.workqueue4j.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Writes {@code samples.gen.Reused}: {@code public static synchronized int f(String s)} and
 * {@code public synchronized int g(String s)} whose code stores {@code s.length()} (an int) into
 * the slot of the dead parameter {@code s} and returns it. Valid bytecode (no branches, so no
 * stack map frames are needed), of the kind optimizers emit.
 */
final class ReusedSlotClass {
    private ReusedSlotClass() {
    }

    /** Writes the class under {@code dir} and returns {@code dir}. */
    static Path writeTo(Path dir) throws IOException {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS | ClassWriter.COMPUTE_FRAMES);
        cw.visit(Opcodes.V11, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "samples/gen/Reused", null, "java/lang/Object", null);
        cw.visitSource("Reused.java", null);
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        reusing(cw, Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_SYNCHRONIZED, "f", 0);
        reusing(cw, Opcodes.ACC_PUBLIC | Opcodes.ACC_SYNCHRONIZED, "g", 1);
        cw.visitEnd();
        Path file = dir.resolve("samples/gen/Reused.class");
        Files.createDirectories(file.getParent());
        Files.write(file, cw.toByteArray());
        return dir;
    }

    private static void reusing(ClassWriter cw, int access, String name, int slot) {
        MethodVisitor mv = cw.visitMethod(access, name, "(Ljava/lang/String;)I", null, null);
        mv.visitCode();
        mv.visitVarInsn(Opcodes.ALOAD, slot);
        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/String", "length", "()I", false);
        mv.visitVarInsn(Opcodes.ISTORE, slot); // the parameter is dead: its slot now holds an int
        mv.visitVarInsn(Opcodes.ILOAD, slot);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
    }
}
