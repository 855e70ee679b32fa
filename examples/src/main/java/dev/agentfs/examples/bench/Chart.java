package dev.agentfs.examples.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A horizontal grouped bar chart of the ratio to native per measurement (one bar per AgentFS
 * configuration) on a log scale, with a line at 1× (native speed). Java2D, headless.
 */
final class Chart {
  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
    new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)
  };

  private Chart() {}

  static void write(Report r, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> configs = r.configs().stream().filter(c -> !c.equals("native")).toList();
    List<String> ms = r.measurements();
    double lo = 1;
    double hi = 1;
    for (String m : ms) {
      for (String c : configs) {
        Double v = r.ratio(m, c);
        if (v != null && v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    double logLo = Math.floor(Math.log10(lo) * 2) / 2 - 0.05;
    double logHi = Math.ceil(Math.log10(hi) * 2) / 2 + 0.05;
    if (logHi - logLo < 1) {
      logHi = logLo + 1;
    }

    int barH = 16;
    int groupGap = 12;
    int left = 170;
    int right = 90;
    int top = 70;
    int plotW = 760;
    int groupH = Math.max(1, configs.size()) * barH + groupGap;
    int height = top + Math.max(1, ms.size()) * groupH + 70;
    int width = left + plotW + right;
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING,
          RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
      g.drawString("AgentFS speed relative to native (median; log scale, higher is better)",
          left - 150, 28);

      // Legend.
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      int lx = left;
      for (int i = 0; i < configs.size(); i++) {
        g.setColor(PALETTE[i % PALETTE.length]);
        g.fillRect(lx, 40, 14, 14);
        g.setColor(Color.BLACK);
        g.drawString(configs.get(i), lx + 18, 52);
        lx += 30 + g.getFontMetrics().stringWidth(configs.get(i));
      }

      int plotBottom = top + ms.size() * groupH;
      // Grid: 1, 2 and 5 times each power of ten in range.
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      for (int dec = (int) Math.floor(logLo); dec <= (int) Math.ceil(logHi); dec++) {
        for (int mult : new int[] {1, 2, 5}) {
          double e = dec + Math.log10(mult);
          if (e < logLo || e > logHi) {
            continue;
          }
          int x = xOf(e, logLo, logHi, left, plotW);
          g.setColor(new Color(mult == 1 ? 0xbbbbbb : 0xe4e4e4));
          g.drawLine(x, top - 4, x, plotBottom);
          g.setColor(Color.DARK_GRAY);
          String label = label(mult * Math.pow(10, dec));
          FontMetrics fm = g.getFontMetrics();
          g.drawString(label, x - fm.stringWidth(label) / 2, plotBottom + 16);
        }
      }
      g.drawString("× native speed", left + plotW / 2 - 40, plotBottom + 36);

      // Bars.
      int x0 = xOf(Math.max(logLo, 0), logLo, logHi, left, plotW);
      for (int mi = 0; mi < ms.size(); mi++) {
        int gy = top + mi * groupH;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics fm = g.getFontMetrics();
        String name = ms.get(mi);
        g.drawString(name, left - 8 - fm.stringWidth(name),
            gy + (configs.size() * barH) / 2 + fm.getAscent() / 2 - 1);
        for (int ci = 0; ci < configs.size(); ci++) {
          Double v = r.ratio(name, configs.get(ci));
          int y = gy + ci * barH;
          if (v == null || v <= 0) {
            continue;
          }
          int x = xOf(Math.log10(v), logLo, logHi, left, plotW);
          g.setColor(PALETTE[ci % PALETTE.length]);
          g.fillRect(Math.min(x0, x), y + 1, Math.max(1, Math.abs(x - x0)), barH - 2);
          g.setColor(Color.BLACK);
          g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
          g.drawString(String.format(Locale.ROOT, "%.2f×", v), Math.max(x, x0) + 4,
              y + barH - 4);
        }
      }
      // The native line.
      g.setColor(Color.BLACK);
      g.setStroke(new BasicStroke(2));
      g.drawLine(x0, top - 6, x0, plotBottom);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
      g.drawString("native", x0 - 18, top - 9);
    } finally {
      g.dispose();
    }
    if (!ImageIO.write(img, "png", png.toFile())) {
      throw new IOException("no PNG writer");
    }
  }

  private static int xOf(double log, double lo, double hi, int left, int w) {
    return left + (int) Math.round((log - lo) / (hi - lo) * w);
  }

  private static String label(double v) {
    if (v >= 1) {
      return String.format(Locale.ROOT, "%.0f×", v);
    }
    return String.format(Locale.ROOT, v >= 0.1 ? "%.1f×" : v >= 0.01 ? "%.2f×" : "%.3f×", v);
  }
}
