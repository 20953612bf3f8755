"""CLIP score: the scorer against a hand computation on a saved CLIP checkpoint, the text-to-image
signal, and the metric over signals."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mubench_harness.generative.clip import ClipScorer
from mubench_harness.hf import word_tokenizer
from mubench_harness.metrics import Evaluation
from mubench_harness.metrics.performance import ClipScore

PROMPTS = ["a photo of a circle", "a photo of a square", "a photo of a cross"]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    """A tiny CLIP checkpoint saved as a hub repository is: model, tokenizer, image processor."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    from tokenizers.processors import TemplateProcessing

    folder = tmp_path_factory.mktemp("clip")
    tok = word_tokenizer(PROMPTS, model_max_length=16)
    # as CLIP's own tokenizer: <s> prompt </s>. CLIP's text tower pools at the end token; without one it
    # pools the first token, and every prompt "a photo of a ..." gets the same embedding
    tok.backend_tokenizer.post_processor = TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", tok.bos_token_id), ("</s>", tok.eos_token_id)])
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=16, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id),
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                           image_size=24, patch_size=8),
        projection_dim=8)
    CLIPModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 24}, crop_size={"height": 24, "width": 24},
                       image_mean=[0.5, 0.4, 0.3], image_std=[0.2, 0.25, 0.3]).save_pretrained(folder)
    return folder


def test_scorer_matches_a_hand_computation(clip_dir):
    from transformers import AutoTokenizer, CLIPModel

    images = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    scores = ClipScorer(str(clip_dir))(images, PROMPTS)
    tokens = ClipScorer(str(clip_dir)).tokenizer(PROMPTS)["input_ids"]
    assert all(t[-1] == tokens[0][-1] for t in tokens) and len({t[-2] for t in tokens}) == 3  # </s> after the shape
    # by hand: resize to 24, [-1, 1] → [0, 1], normalise, project both towers, cosine, clamp, × 100
    model = CLIPModel.from_pretrained(clip_dir).eval()
    x = F.interpolate((images + 1) / 2, size=(24, 24), mode="bicubic", align_corners=False).clamp(0, 1)
    x = (x - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)) / torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    tok = AutoTokenizer.from_pretrained(clip_dir)(PROMPTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        img = model.visual_projection(model.vision_model(pixel_values=x).pooler_output)
        txt = model.text_projection(model.text_model(**tok).pooler_output)
    expected = 100 * F.cosine_similarity(img, txt, dim=-1).clamp(min=0)
    assert torch.allclose(scores, expected, atol=1e-4)
    assert ((scores >= 0) & (scores <= 100)).all()
    assert torch.allclose(ClipScorer(str(clip_dir), weight=2.5)(images, PROMPTS), expected / 40, atol=1e-5)
    with pytest.raises(ValueError, match="one prompt per image"):
        ClipScorer(str(clip_dir))(images, PROMPTS[:2])


def test_text_to_image_signals_carry_the_clip_score_of_the_judged_images(clip_dir):
    from pydantic import BaseModel

    from mubench_harness.generative.diffusion import TextToImageTask
    from mubench_harness.generative.settings import Sampling
    from mubench_harness.testing.diffusion import tiny_diffusion_model

    class Args(BaseModel):
        clip_model: str | None = None
        sampling: Sampling = Sampling(steps=2, batch_size=4)

    class Shapes(TextToImageTask):
        def captions(self, labels):
            return [PROMPTS[int(k)] for k in labels]

        def image_classifier(self):
            return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(3))

    model = tiny_diffusion_model()
    batch = {"pixel_values": torch.zeros(3, 3, 8, 8), "input_ids": torch.randint(3, 20, (3, 6)),
             "attention_mask": torch.ones(3, 6, dtype=torch.long), "labels": torch.tensor([0, 1, 2]),
             "idx": torch.tensor([0, 1, 2])}
    assert "clip_score" not in Shapes(Args()).signals(model, batch)  # no CLIP model named: no CLIP score
    task = Shapes(Args(clip_model=str(clip_dir)))
    sig = task.signals(model, batch)
    images = task.generate_images(model, batch)  # seeded per sample: the very images the signal scored
    assert torch.allclose(sig["clip_score"], task.clip_scorer()(images, PROMPTS), atol=1e-5)


def test_metric_reports_the_mean_per_split_beside_the_original():
    def signals(clip):
        return {"score": np.zeros(len(clip)), "clip_score": np.asarray(clip, dtype=float)}

    ev = Evaluation(signals={"test": signals([30, 32]), "forget": signals([10, 20])},
                    original={"test": signals([31, 31]), "forget": signals([30, 34])}, kind="text_to_image")
    assert ClipScore(None).compute(ev) == {"test/clip_score": 31.0, "forget/clip_score": 15.0,
                                           "forget/original_clip_score": 32.0}
    plain = Evaluation(signals={"test": {"score": np.ones(2)}}, original={"test": {"score": np.ones(2)}})
    assert ClipScore(None).compute(plain) == {}


def _shapes(n_per_class: int, seed: int) -> tuple[torch.Tensor, list[int]]:
    """16×16 images in [-1, 1] of a circle, a square or a cross (the PROMPTS' order), randomly placed
    and sized, on noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:16, :16]
    images, labels = [], []
    for k in range(3):
        for _ in range(n_per_class):
            cy, cx, r = rng.uniform(6, 10), rng.uniform(6, 10), rng.uniform(3.5, 5.5)
            if k == 0:
                mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2
            elif k == 1:
                mask = (abs(yy - cy) <= r * 0.8) & (abs(xx - cx) <= r * 0.8)
            else:
                mask = ((abs(yy - cy) <= 1) & (abs(xx - cx) <= r)) | ((abs(xx - cx) <= 1) & (abs(yy - cy) <= r))
            img = np.where(mask, 0.8, -0.8) + rng.normal(0, 0.1, (16, 16))
            images.append(np.repeat(img[None], 3, 0))
            labels.append(k)
    return torch.tensor(np.stack(images), dtype=torch.float32).clamp(-1, 1), labels


@pytest.fixture(scope="module")
def trained_clip_dir(clip_dir, tmp_path_factory):
    """The tiny CLIP of ``clip_dir`` taught which caption names which shape, the standard way: inputs made
    by its saved processor and tokenizer (uint8 images through CLIPImageProcessor), and the image side
    of CLIP's contrastive loss (each image against the three captions). A few seconds on one thread."""
    from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

    model = CLIPModel.from_pretrained(clip_dir).train()
    proc, tok = CLIPImageProcessor.from_pretrained(clip_dir), AutoTokenizer.from_pretrained(clip_dir)
    images, labels = _shapes(40, seed=0)
    uint8 = ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    pixels = proc(images=list(uint8), return_tensors="pt")["pixel_values"]
    text = tok(PROMPTS, padding=True, return_tensors="pt")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(1)
    torch.manual_seed(0)
    for _ in range(300):
        pick = rng.choice(len(labels), 30, replace=False)
        out = model(input_ids=text["input_ids"], attention_mask=text["attention_mask"], pixel_values=pixels[pick])
        loss = F.cross_entropy(out.logits_per_image, torch.tensor(labels)[pick])
        opt.zero_grad()
        loss.backward()
        opt.step()
    folder = tmp_path_factory.mktemp("clip_trained")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    proc.save_pretrained(folder)
    return folder


def test_matching_caption_scores_higher_than_a_mismatched_one(trained_clip_dir, clip_dir):
    """On held-out shapes: every image's CLIP score with its own caption is above its score with each
    other caption; an untrained CLIP shows no such preference."""
    images, labels = _shapes(10, seed=5)
    scorer = ClipScorer(str(trained_clip_dir))
    by_prompt = torch.stack([scorer(images, [p] * len(images)) for p in PROMPTS], 1)  # [N, 3]
    own = by_prompt[torch.arange(len(images)), labels]
    others = by_prompt.clone()
    others[torch.arange(len(images)), labels] = -1.0
    assert (own > others.max(1).values).float().mean() >= 0.9, by_prompt
    assert own.mean() > others.max(1).values.mean() + 5  # points on the 0..100 scale
    untrained = ClipScorer(str(clip_dir))
    raw = torch.stack([untrained(images, [p] * len(images)) for p in PROMPTS], 1)
    assert (raw.argmax(1) == torch.tensor(labels)).float().mean() < 0.9  # the preference is learned, not built in
