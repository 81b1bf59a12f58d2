import './styles/global.css';
import './ec-app.js';
