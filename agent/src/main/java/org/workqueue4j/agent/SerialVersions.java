package org.workqueue4j.agent;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.InnerClassNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * The default {@code serialVersionUID} of a class, as {@link java.io.ObjectStreamClass} computes
 * it, from the class file. Removing {@code ACC_SYNCHRONIZED} from a method changes that value, so
 * the transformer writes the original one into a {@code Serializable} class that declares none:
 * streams written without the agent still read with it, and the other way round.
 */
final class SerialVersions {
    private static final int CLASS_MODS = Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_INTERFACE | Opcodes.ACC_ABSTRACT;
    private static final int FIELD_MODS = Opcodes.ACC_PUBLIC | Opcodes.ACC_PRIVATE | Opcodes.ACC_PROTECTED
            | Opcodes.ACC_STATIC | Opcodes.ACC_FINAL | Opcodes.ACC_VOLATILE | Opcodes.ACC_TRANSIENT;
    private static final int METHOD_MODS = Opcodes.ACC_PUBLIC | Opcodes.ACC_PRIVATE | Opcodes.ACC_PROTECTED
            | Opcodes.ACC_STATIC | Opcodes.ACC_FINAL | Opcodes.ACC_SYNCHRONIZED | Opcodes.ACC_NATIVE
            | Opcodes.ACC_ABSTRACT | Opcodes.ACC_STRICT;

    private SerialVersions() {
    }

    /**
     * Returns the default serialVersionUID of the (not yet rewritten) class {@code cn} when it must
     * be kept explicitly: the class is serializable, not an enum, record or interface (their
     * identifiers do not depend on their methods), and declares no {@code serialVersionUID}.
     *
     * @param cn the class as read from its original bytes
     * @param loader the loader defining it, to resolve its supertypes
     * @return the value, or null when nothing is to be added
     */
    static Long defaultToKeep(ClassNode cn, ClassLoader loader) {
        if ((cn.access & (Opcodes.ACC_ENUM | Opcodes.ACC_INTERFACE)) != 0 || "java/lang/Record".equals(cn.superName)) {
            return null;
        }
        boolean synchronizedMethod = false;
        for (MethodNode m : cn.methods) {
            synchronizedMethod |= (m.access & Opcodes.ACC_SYNCHRONIZED) != 0;
        }
        if (!synchronizedMethod) {
            return null; // the default identifier does not change
        }
        for (FieldNode f : cn.fields) {
            if (f.name.equals("serialVersionUID")) {
                return null; // declared (nothing changes) or misdeclared (see mustKeepSynchronized)
            }
        }
        return serializable(cn, loader) ? defaultSuid(cn) : null;
    }

    /**
     * Whether the synchronized methods of the (not yet rewritten) class {@code cn} must keep
     * {@code ACC_SYNCHRONIZED}: the class is serializable, has a synchronized method whose flag
     * is hashed into its default serialVersionUID, and has a field named {@code serialVersionUID}
     * that {@code ObjectStreamClass} does not take as declared (see {@link #countsAsDeclared}), so
     * the JDK computes the default one. That value cannot be kept by adding a field: the name is
     * taken (and a second field of that name, of another type, would make
     * {@code getDeclaredField} ambiguous).
     *
     * @param cn the class as read from its original bytes
     * @param loader the loader defining it, to resolve its supertypes
     * @return true when stripping {@code ACC_SYNCHRONIZED} would change the class's serialVersionUID
     */
    static boolean mustKeepSynchronized(ClassNode cn, ClassLoader loader) {
        if ((cn.access & (Opcodes.ACC_ENUM | Opcodes.ACC_INTERFACE)) != 0 || "java/lang/Record".equals(cn.superName)) {
            return false;
        }
        boolean synchronizedMethod = false;
        for (MethodNode m : cn.methods) {
            synchronizedMethod |= (m.access & Opcodes.ACC_SYNCHRONIZED) != 0;
        }
        if (!synchronizedMethod) {
            return false;
        }
        boolean misdeclared = false;
        for (FieldNode f : cn.fields) {
            if (f.name.equals("serialVersionUID")) {
                if (countsAsDeclared(f)) {
                    return false;
                }
                misdeclared = true;
            }
        }
        return misdeclared && serializable(cn, loader);
    }

    /**
     * Whether {@code ObjectStreamClass} takes the field as the declared serialVersionUID: it must
     * be {@code static final}, and {@code Field.getLong} must read it, which widens a
     * {@code byte}, {@code short}, {@code char} or {@code int} (any other type makes it fall back
     * to the default value).
     */
    private static boolean countsAsDeclared(FieldNode f) {
        int mask = Opcodes.ACC_STATIC | Opcodes.ACC_FINAL;
        return (f.access & mask) == mask && f.desc.length() == 1 && "BCSIJ".contains(f.desc);
    }

    /**
     * Whether the class implements {@link Serializable}, directly or through a supertype. The
     * supertypes are read as class files through {@code loader}, not loaded: a class loaded from
     * inside a transformer is not transformed itself. JDK supertypes ({@code java.*}) are
     * loaded, by the bootstrap or platform loader, which the agent never instruments. When a
     * supertype cannot be read the answer is yes: a constant the class does not need is
     * harmless, a lost one is not.
     */
    private static boolean serializable(ClassNode cn, ClassLoader loader) {
        Deque<String> todo = new ArrayDeque<>(cn.interfaces);
        if (cn.superName != null) {
            todo.add(cn.superName);
        }
        Set<String> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            String t = todo.poll();
            if (t.equals("java/io/Serializable") || t.equals("java/io/Externalizable")) {
                return true;
            }
            if (t.equals("java/lang/Object") || !seen.add(t)) {
                continue;
            }
            if (t.startsWith("java/")) {
                try {
                    Class<?> c = Class.forName(t.replace('/', '.'), false, ClassLoader.getPlatformClassLoader());
                    if (Serializable.class.isAssignableFrom(c)) {
                        return true;
                    }
                } catch (ClassNotFoundException | LinkageError e) {
                    return true;
                }
                continue;
            }
            try (InputStream in = loader.getResourceAsStream(t + ".class")) {
                if (in == null) {
                    return true;
                }
                ClassReader r = new ClassReader(in.readAllBytes());
                todo.addAll(Arrays.asList(r.getInterfaces()));
                if (r.getSuperName() != null) {
                    todo.add(r.getSuperName());
                }
            } catch (IOException | RuntimeException e) {
                return true;
            }
        }
        return false;
    }

    /** {@code ObjectStreamClass.computeDefaultSUID}, reading the class file instead of reflection. */
    static long defaultSuid(ClassNode cn) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(cn.name.replace('/', '.'));

            int access = cn.access;
            for (InnerClassNode ic : cn.innerClasses) {
                if (ic.name.equals(cn.name)) {
                    access = ic.access; // Class.getModifiers() of a member class
                }
            }
            List<MethodNode> methods = new ArrayList<>();
            List<MethodNode> constructors = new ArrayList<>();
            boolean clinit = false;
            for (MethodNode m : cn.methods) {
                if (m.name.equals("<clinit>")) {
                    clinit = true;
                } else if (m.name.equals("<init>")) {
                    constructors.add(m);
                } else {
                    methods.add(m);
                }
            }
            int classMods = access & CLASS_MODS;
            if ((classMods & Opcodes.ACC_INTERFACE) != 0) {
                classMods = methods.isEmpty() ? classMods & ~Opcodes.ACC_ABSTRACT : classMods | Opcodes.ACC_ABSTRACT;
            }
            out.writeInt(classMods);

            List<String> interfaces = new ArrayList<>(cn.interfaces);
            interfaces.sort(Comparator.naturalOrder());
            for (String i : interfaces) {
                out.writeUTF(i.replace('/', '.'));
            }

            List<FieldNode> fields = new ArrayList<>(cn.fields);
            fields.sort(Comparator.comparing(f -> f.name));
            for (FieldNode f : fields) {
                int mods = f.access & FIELD_MODS;
                if ((mods & Opcodes.ACC_PRIVATE) == 0 || (mods & (Opcodes.ACC_STATIC | Opcodes.ACC_TRANSIENT)) == 0) {
                    out.writeUTF(f.name);
                    out.writeInt(mods);
                    out.writeUTF(f.desc);
                }
            }

            if (clinit) {
                out.writeUTF("<clinit>");
                out.writeInt(Opcodes.ACC_STATIC);
                out.writeUTF("()V");
            }

            constructors.sort(Comparator.comparing(m -> m.desc));
            for (MethodNode m : constructors) {
                writeMethod(out, m);
            }
            methods.sort(Comparator.<MethodNode, String>comparing(m -> m.name).thenComparing(m -> m.desc));
            for (MethodNode m : methods) {
                writeMethod(out, m);
            }
            out.flush();

            byte[] sha = MessageDigest.getInstance("SHA").digest(bytes.toByteArray());
            long hash = 0;
            for (int i = Math.min(sha.length, 8) - 1; i >= 0; i--) {
                hash = (hash << 8) | (sha[i] & 0xFF);
            }
            return hash;
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // in-memory stream; SHA is mandatory
        }
    }

    private static void writeMethod(DataOutputStream out, MethodNode m) throws IOException {
        int mods = m.access & METHOD_MODS;
        if ((mods & Opcodes.ACC_PRIVATE) == 0) {
            out.writeUTF(m.name);
            out.writeInt(mods);
            out.writeUTF(m.desc.replace('/', '.'));
        }
    }
}
