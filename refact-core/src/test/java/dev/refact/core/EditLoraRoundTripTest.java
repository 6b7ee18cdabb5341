package dev.refact.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.lora.EditDelta;
import dev.refact.core.lora.LoraExporter;
import dev.refact.core.lora.LoraFile;
import dev.refact.core.lora.LoraFormat;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real edit (tiny fixture) exported as a LoRA and merged into a fresh model gives the edited weights. */
class EditLoraRoundTripTest {
    @Test
    void editResult_exportedAsKohyaAndPeft_mergesToTheEditedWeightsBitExactly(@TempDir Path dir) throws IOException {
        ClipTokenizer tok = TinyFixture.tokenizer();
        try (ClipTextModel model = TinyFixture.model();
             CovarianceStats stats = TinyFixture.stats(model, tok, 1, 0.01)) {
            EditResult r = Editor.builder().tokenizer(tok).statistics(stats)
                    .hyperparameters(TinyFixture.hyperparameters().maxSteps(5).build()).build()
                    .edit(model, EditRequest.of("The President of the United States", "Donald Trump", "Joe Biden"));
            float[] edited;
            try (PointerScope scope = new PointerScope()) {
                edited = Tensors.toFloats(model.parameter(r.weightName()));
            }
            for (LoraFormat f : new LoraFormat[] {LoraFormat.KOHYA, LoraFormat.PEFT}) {
                Path lora = dir.resolve(f.cliName() + ".safetensors");
                LoraExporter.builder().format(f).build().write(List.of(EditDelta.of(r)), lora);
                try (ClipTextModel fresh = TinyFixture.model(); PointerScope scope = new PointerScope()) {
                    List<LoraFile.Merged> merged = LoraFile.read(lora).apply(fresh, 1, "lora");
                    assertEquals(1, merged.size());
                    assertEquals(r.weightName(), merged.get(0).weightName());
                    assertArrayEquals(edited, Tensors.toFloats(fresh.parameter(r.weightName())), f.cliName());
                }
            }
        }
    }
}
