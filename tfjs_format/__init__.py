"""TensorFlow.js file formats: weight manifests, shards, quantization, layers-model files."""
