from mubench_harness.testing.families import HFFamilyContract


class TestContract(HFFamilyContract):
    name = "vit"
    task = "cifar100"
    hub_ids = {"base": "google/vit-base-patch16-224-in21k", "large": "google/vit-large-patch16-224-in21k", "tiny": None}

    def local_processor(self):
        from transformers import ViTImageProcessorPil

        return ViTImageProcessorPil(size={"height": 32, "width": 32})
