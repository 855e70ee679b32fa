package dev.agentfs.nio;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Users and groups by number. Names come from the host's /etc/passwd and /etc/group when it has
 * them (so owners print as on the default file system); an id without a name is shown, and may
 * be looked up, as its decimal number.
 */
final class Principals {
  private Principals() {}

  /** A uid or gid as a principal. */
  record Id(int id, boolean group, String name) implements GroupPrincipal {
    @Override
    public String getName() {
      return name;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Id x && x.id == id && x.group == group;
    }

    @Override
    public int hashCode() {
      return Integer.hashCode(id) * 31 + (group ? 1 : 0);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** A user principal that is not also a group (GroupPrincipal extends UserPrincipal). */
  record User(int id, String name) implements UserPrincipal {
    @Override
    public String getName() {
      return name;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static volatile @Nullable Map<String, Integer> users;
  private static volatile @Nullable Map<String, Integer> groups;
  private static volatile @Nullable Map<Integer, String> userNames;
  private static volatile @Nullable Map<Integer, String> groupNames;

  private static void load() {
    if (users != null) {
      return;
    }
    Map<String, Integer> u = new HashMap<>();
    Map<Integer, String> un = new HashMap<>();
    Map<String, Integer> g = new HashMap<>();
    Map<Integer, String> gn = new HashMap<>();
    read(Path.of("/etc/passwd"), u, un);
    read(Path.of("/etc/group"), g, gn);
    groups = g;
    groupNames = gn;
    userNames = un;
    users = u;
  }

  private static void read(Path f, Map<String, Integer> byName, Map<Integer, String> byId) {
    try {
      for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
        String[] parts = line.split(":", -1);
        if (parts.length < 3) {
          continue;
        }
        try {
          int id = Integer.parseInt(parts[2]);
          byName.putIfAbsent(parts[0], id);
          byId.putIfAbsent(id, parts[0]);
        } catch (NumberFormatException e) {
          // not an entry
        }
      }
    } catch (IOException | SecurityException e) {
      // no names: numbers only
    }
  }

  static UserPrincipal user(int uid) {
    load();
    String n = userNames.get(uid);
    return new User(uid, n != null ? n : Integer.toString(uid));
  }

  static GroupPrincipal group(int gid) {
    load();
    String n = groupNames.get(gid);
    return new Id(gid, true, n != null ? n : Integer.toString(gid));
  }

  /** The uid of a user principal from any file system, by number or by name. */
  static int uidOf(UserPrincipal p) throws IOException {
    if (p instanceof User u) {
      return u.id();
    }
    if (p instanceof GroupPrincipal) {
      throw new IllegalArgumentException("not a user: " + p);
    }
    return lookupUid(p.getName());
  }

  static int gidOf(GroupPrincipal p) throws IOException {
    if (p instanceof Id g) {
      return g.id();
    }
    return lookupGid(p.getName());
  }

  static int lookupUid(String name) throws UserPrincipalNotFoundException {
    load();
    Integer id = users.get(name);
    if (id != null) {
      return id;
    }
    return number(name);
  }

  static int lookupGid(String name) throws UserPrincipalNotFoundException {
    load();
    Integer id = groups.get(name);
    if (id != null) {
      return id;
    }
    return number(name);
  }

  private static int number(String name) throws UserPrincipalNotFoundException {
    try {
      int id = Integer.parseInt(name);
      if (id >= 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new UserPrincipalNotFoundException(name);
  }

  static final UserPrincipalLookupService LOOKUP = new UserPrincipalLookupService() {
    @Override
    public UserPrincipal lookupPrincipalByName(String name) throws IOException {
      return user(lookupUid(name));
    }

    @Override
    public GroupPrincipal lookupPrincipalByGroupName(String group) throws IOException {
      return group(lookupGid(group));
    }
  };
}
