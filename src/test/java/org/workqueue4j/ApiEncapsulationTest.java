package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * No engine type and no engine state is reachable from the public API: every public or
 * protected member of every public type in the exported packages is checked, so a user cannot
 * call into the engine (for example claim an item's PENDING bit and stall it forever).
 */
class ApiEncapsulationTest {
    private static final String INTERNAL = "org.workqueue4j.internal";
    private static final List<String> EXPORTED = List.of("org.workqueue4j", "org.workqueue4j.lockdep");

    @Test
    void noInternalTypeIsReachableFromTheExportedApi() throws Exception {
        List<String> leaks = new ArrayList<>();
        List<Class<?>> types = exportedPublicTypes();
        assertThat(types).contains(Work.class, DelayedWork.class, WorkQueue.class);
        for (Class<?> c : types) {
            check(c + " extends", c.getGenericSuperclass(), leaks);
            for (Type i : c.getGenericInterfaces()) {
                check(c + " implements", i, leaks);
            }
            for (Field f : c.getDeclaredFields()) {
                if (visible(f)) {
                    check(c.getName() + "." + f.getName(), f.getGenericType(), leaks);
                }
            }
            for (Method m : c.getDeclaredMethods()) {
                if (visible(m) && !m.isSynthetic()) {
                    check(c.getName() + "." + m.getName() + " returns", m.getGenericReturnType(), leaks);
                    checkSignature(c, m, leaks);
                }
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (visible(k)) {
                    checkSignature(c, k, leaks);
                }
            }
        }
        assertThat(leaks).as("engine types reachable from the public API").isEmpty();
    }

    @Test
    void workExposesNoStateWordOrLinks() {
        assertThat(Work.class.getSuperclass()).isEqualTo(Object.class);
        for (Method m : DelayedWork.class.getMethods()) {
            assertThat(m.getName()).as("public method of DelayedWork")
                    .isNotIn("casState", "clearState", "addState", "state", "isPendingBit", "disableCount",
                            "armedTimer", "execute");
        }
        for (Field f : DelayedWork.class.getFields()) {
            assertThat(f.getName()).as("public field of DelayedWork").startsWith("BUSY_");
        }
    }

    private static void checkSignature(Class<?> c, Executable e, List<String> leaks) {
        for (Type p : e.getGenericParameterTypes()) {
            check(c.getName() + "." + e.getName() + " parameter", p, leaks);
        }
        for (Type x : e.getGenericExceptionTypes()) {
            check(c.getName() + "." + e.getName() + " throws", x, leaks);
        }
    }

    private static boolean visible(Member m) {
        int mod = m.getModifiers();
        return Modifier.isPublic(mod) || (Modifier.isProtected(mod) && !Modifier.isFinal(m.getDeclaringClass().getModifiers()));
    }

    private static void check(String where, Type t, List<String> leaks) {
        if (t instanceof Class<?> k) {
            while (k.isArray()) {
                k = k.getComponentType();
            }
            if (k.getPackageName().equals(INTERNAL)) {
                leaks.add(where + " " + k.getName());
            }
        } else if (t instanceof ParameterizedType p) {
            check(where, p.getRawType(), leaks);
            for (Type a : p.getActualTypeArguments()) {
                check(where, a, leaks);
            }
        } else if (t instanceof GenericArrayType g) {
            check(where, g.getGenericComponentType(), leaks);
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                check(where, b, leaks);
            }
            for (Type b : w.getLowerBounds()) {
                check(where, b, leaks);
            }
        } else if (t instanceof TypeVariable<?> v) {
            for (Type b : v.getBounds()) {
                if (!(b instanceof TypeVariable<?>)) {
                    check(where, b, leaks);
                }
            }
        }
    }

    /** Every public top-level or public nested type compiled into the exported packages. */
    private static List<Class<?>> exportedPublicTypes() throws URISyntaxException, ClassNotFoundException {
        Path root = Path.of(Work.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> out = new ArrayList<>();
        for (String pkg : EXPORTED) {
            Path dir = root.resolve(pkg.replace('.', '/'));
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(f -> f.toString().endsWith(".class")).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (Path f : files) {
                String simple = f.getFileName().toString().replace(".class", "");
                if (simple.equals("module-info") || simple.equals("package-info")) {
                    continue;
                }
                Class<?> c = Class.forName(pkg + "." + simple, false,
                        ApiEncapsulationTest.class.getClassLoader());
                if (isPubliclyReachable(c)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    private static boolean isPubliclyReachable(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
            if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass()) {
                return false;
            }
        }
        return true;
    }
}
