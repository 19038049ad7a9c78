// The namespaces nearly every file of the models uses: the engine below (tensors, autograd and its modules) and the
// models' own data, metrics and training layers.
global using QGenEngine.Autograd;
global using QGenEngine.Autograd.Nn;
global using QGenEngine.Models.Data;
global using QGenEngine.Models.Metrics;
global using QGenEngine.Models.Training;
global using QGenEngine.Tensors;
